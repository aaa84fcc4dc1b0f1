/* Fuzz target: messages and mailboxes - the reader (unfolding, mbox
 * separators, gzip) and the Received-header parser, then hops. */
#include "fuzz_common.h"
#include "../../correlate/hops.h"
#include "../../ingest/mailfile.h"
#include "../../report/json.h"
#include <stdlib.h>

static void on_mail(const struct mail_msg *mm, void *arg)
{
	(void)arg;
	struct message *m = hops_message(mm, NULL, NULL);
	message_bare_addresses(m);	/* the From split, RFC 2047 names decoded */
	struct buf b;
	buf_init(&b);
	const char *files[] = { "fuzz" };
	struct writer_env env = { .files = files, .nfiles = 1 };
	json_message(&b, m, &env);
	buf_free(&b);
	message_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct received r;
	received_parse((const char *)data, size, &r);
	char path[64];
	int fd = fuzz_file(data, size, path, sizeof path);
	if (fd < 0)
		return 0;
	struct mail_stats st;
	mail_read(path, 0, fuzz_devnull(), on_mail, NULL, &st);
	free(st.error);
	close(fd);
	return 0;
}
