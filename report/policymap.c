/* policymap.c - --policy-map postfix|sendmail: the recipient domains that
 * always took TLS, as Postfix smtp_tls_policy_maps lines or Sendmail
 * access-map TLS_Srv: entries (README "Enforcement maps"); what is
 * decided, and why, is domains.c's. */
#include "policymap.h"
#include "domains.h"

static void map_postfix(void *w, const struct writer_end *end)
{
	struct domains_writer *dw = w;
	domains_policy_map(dw->doms, dw->base.out, false, end);
}

static void map_sendmail(void *w, const struct writer_end *end)
{
	struct domains_writer *dw = w;
	domains_policy_map(dw->doms, dw->base.out, true, end);
}

const struct writer_class writer_map_postfix = {
	.name = "postfix",
	.policy_map = true,
	.input = WRITER_MESSAGES,
	.begin = domains_writer_begin,
	.message = domains_writer_message,
	.finish = map_postfix,
	.free = domains_writer_free,
};

const struct writer_class writer_map_sendmail = {
	.name = "sendmail",
	.policy_map = true,
	.input = WRITER_MESSAGES,
	.begin = domains_writer_begin,
	.message = domains_writer_message,
	.finish = map_sendmail,
	.free = domains_writer_free,
};
