/* logclock.h - a log's clock: the latest stamp seen, except that a stamp
 * far ahead of it (a host's clock set wrong, a damaged line) moves it only
 * once the lines after it agree.  One such line must not make everything
 * look hours old: the tracker would sweep every open session, the join
 * let go of its capture records, the paths write every message unlinked.
 * A real gap in a log (a server down for a day) is followed by lines that
 * all agree, so the clock follows after LOGCLOCK_CONFIRM of them. */
#ifndef TW_LOGCLOCK_H
#define TW_LOGCLOCK_H
#include <time.h>

#define LOGCLOCK_JUMP 3600	/* seconds ahead that need confirming */
#define LOGCLOCK_CONFIRM 16	/* stamps that confirm a jump */

struct logclock {
	time_t now;		/* 0: nothing seen yet */
	time_t ahead;		/* the earliest of the stamps far ahead */
	unsigned nahead;	/* how many in a row */
};

static inline void logclock_see(struct logclock *c, time_t ts)
{
	if (!c->now || ts <= c->now + LOGCLOCK_JUMP) {
		if (ts > c->now)
			c->now = ts;
		c->nahead = 0;
		return;
	}
	if (!c->nahead || ts < c->ahead)
		c->ahead = ts;
	if (++c->nahead >= LOGCLOCK_CONFIRM) {
		c->now = c->ahead;
		c->nahead = 0;
	}
}

#endif
