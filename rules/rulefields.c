/* rulefields.c - the fields a rule may test and the modifiers it may
 * use (README "Rule language"), by name and type. */
#include "policy_int.h"

const struct field_def rule_fields[F_COUNT] = {
	[F_TLS_USED] = { "tls.used", FT_BOOL, NULL },
	[F_TLS_VERSION] = { "tls.version", FT_VERSION, NULL },
	[F_TLS_CIPHER] = { "tls.cipher", FT_STRING, NULL },
	[F_TLS_BITS] = { "tls.bits", FT_INT, NULL },
	[F_TLS_CERT] = { "tls.cert", FT_CERT, NULL },
	[F_TLS_STRIPPED] = { "tls.stripped", FT_BOOL, NULL },
	[F_HOP_DIRECTION] = { "hop.direction", FT_ENUM, (const char *const[]){ "inbound", "outbound", NULL } },
	[F_HOP_PEER_HOST] = { "hop.peer_host", FT_DOMAIN, NULL },
	[F_HOP_PEER_IP] = { "hop.peer_ip", FT_IP, NULL },
	[F_HOP_PEER_PORT] = { "hop.peer_port", FT_INT, NULL },
	[F_HOP_NETWORK] = { "hop.network", FT_BOOL, NULL },
	[F_HOP_LOCAL] = { "hop.local", FT_BOOL, NULL },
	[F_HOP_SOURCE] = { "hop.source", FT_ENUM, (const char *const[]){ "log", "pcap", "header", NULL } },
	[F_HOP_CONFLICT] = { "hop.conflict", FT_BOOL, NULL },
	[F_HOP_CLAIM] = { "hop.claim", FT_BOOL, NULL },
	[F_HOP_RCPT] = { "hop.rcpt", FT_STRING, NULL },
	[F_HOP_RCPT_DOMAIN] = { "hop.rcpt_domain", FT_DOMAIN, NULL },
	[F_HOP_STATUS] = { "hop.status", FT_STRING, NULL },
	[F_MSG_FROM] = { "msg.from", FT_STRING, NULL },
	[F_MSG_FROM_DOMAIN] = { "msg.from_domain", FT_DOMAIN, NULL },
	[F_MSG_HOST] = { "msg.host", FT_STRING, NULL },
	[F_MSG_QUEUE_ID] = { "msg.queue_id", FT_STRING, NULL },
	[F_MSG_MESSAGE_ID] = { "msg.message_id", FT_STRING, NULL },
	/* The enums list the names of model/message.h in its order, the
	 * first value (none) left out where a hop without it has no value. */
	[F_TLS_DOWNGRADE] = { "tls.downgrade", FT_ENUM,
		(const char *const[]){ "none", "stripped", "refused", "handshake-failed", NULL } },
	[F_HOP_FILTER] = { "hop.filter", FT_BOOL, NULL },
	[F_TLS_LEVEL] = { "tls.level", FT_ENUM,
		(const char *const[]){ "none", "may", "encrypt", "dane", "dane-only", "fingerprint",
				       "verify", "secure", NULL } },
	[F_TLS_ENFORCED] = { "tls.enforced", FT_BOOL, NULL },
	[F_TLS_ENFORCED_BY] = { "tls.enforced_by", FT_ENUM,
		(const char *const[]){ "tls-status", "trust-word", "dane-match", "fingerprint-match",
				       "policy-table", "requiretls", "sendmail-ruleset", NULL } },
	[F_TLS_REQUIRETLS] = { "tls.requiretls", FT_ENUM,
		(const char *const[]){ "no", "honoured", "refused", "pending", NULL } },
	[F_TLS_POLICY_TYPE] = { "tls.policy_type", FT_ENUM,
		(const char *const[]){ "tlsa", "sts", NULL } },
	[F_HOP_SUBMISSION] = { "hop.submission", FT_BOOL, NULL },
	[F_HOP_AUTHENTICATED] = { "hop.authenticated", FT_BOOL, NULL },
	[F_HOP_SASL_METHOD] = { "hop.sasl_method", FT_STRING, NULL },
	[F_HOP_SASL_USERNAME] = { "hop.sasl_username", FT_STRING, NULL },
	[F_ATTEMPT_OUTCOME] = { "attempt.outcome", FT_ENUM,
		(const char *const[]){ "sent", "deferred", "bounced", "refused", "no-connection", NULL } },
	[F_ATTEMPT_REASON] = { "attempt.reason", FT_STRING, NULL },
	[F_DELIVERY_FATE] = { "delivery.fate", FT_ENUM,
		(const char *const[]){ "sent", "bounced", "expired", "deleted", "deferred", NULL } },
	/* the leg of the trip (README "Retrieval"): the sender's submission,
	 * server to server, the recipient's login to the mailbox */
	[F_HOP_LEG] = { "hop.leg", FT_ENUM,
		(const char *const[]){ "submission", "relay", "retrieval", NULL } },
	[F_LOGIN_SERVICE] = { "login.service", FT_STRING, NULL },
	[F_LOGIN_STATUS] = { "login.status", FT_STRING, NULL },
};

const char *const rule_modifier_names[M_COUNT] = {
	"eq", "ne", "lt", "le", "gt", "ge", "in", "cidr", "contains", "suffix", "prefix",
};

bool rule_modifier_fits(enum ftype t, enum modifier m)
{
	switch (m) {
	case M_EQ: case M_NE:
		return true;
	case M_LT: case M_LE: case M_GT: case M_GE:
		return t == FT_VERSION || t == FT_CERT || t == FT_INT;
	case M_IN:
		return t != FT_BOOL;
	case M_CIDR:
		return t == FT_IP;
	case M_CONTAINS: case M_SUFFIX: case M_PREFIX:
		return t == FT_STRING || t == FT_DOMAIN;
	default:
		return false;
	}
}
