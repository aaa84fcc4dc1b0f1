/* summary.c - counts of messages and hops per verdict and severity
 * (report/summary.h). */
#include "summary.h"
#include "../model/verdict.h"

void summary_add(struct summary *s, const struct message *m)
{
	s->messages++;
	int v = verdict_rank(m->verdict), sv = severity_rank(m->severity);
	if (v >= 0)
		s->msg_verdict[v]++;
	if (sv >= 0)
		s->msg_severity[sv]++;
	size_t nh = (m->has_inbound ? 1u : 0u) + m->ndl;
	for (size_t i = 0; i < nh; i++) {
		const struct hop *h = (m->has_inbound && i == 0) ? &m->inbound
								 : &m->dl[i - (m->has_inbound ? 1 : 0)];
		s->hops++;
		v = verdict_rank(h->verdict);
		sv = severity_rank(h->severity);
		if (v >= 0)
			s->hop_verdict[v]++;
		if (sv >= 0)
			s->hop_severity[sv]++;
	}
}
