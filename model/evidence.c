/* evidence.c - the names evidence kinds carry in every output (README
 * "Output": the events format's "kind"). */
#include "evidence.h"

const char *ev_kind_name(enum ev_kind k)
{
	static const char *const names[EV_KIND_MAX] = {
		[EV_CONNECT] = "connect", [EV_DISCONNECT] = "disconnect", [EV_TLS] = "tls",
		[EV_TLS_FAIL] = "tls-failure", [EV_CLIENT] = "client", [EV_PICKUP] = "pickup",
		[EV_MESSAGE_ID] = "message-id", [EV_FROM] = "from", [EV_TO] = "to",
		[EV_REMOVED] = "removed", [EV_DONE] = "done", [EV_BOUNCE] = "notification",
		[EV_REJECT] = "reject", [EV_LOST] = "lost-connection",
		[EV_RESTART] = "restart", [EV_PROXY_ACCEPT] = "proxy-accept",
		[EV_TLS_POLICY] = "tls-policy", [EV_LOGIN] = "login", [EV_MAILBOX] = "mailbox", [EV_AUTH] = "auth",
	};
	return (unsigned)k < EV_KIND_MAX ? names[k] : "?";
}
