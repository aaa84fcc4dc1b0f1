/* Fuzz target: a --state file read back (cli/statefile.c,
 * correlate/track_save.c, model/message_io.c) - its SHA-256 trailer is
 * appended here, so the fuzzer reaches the parser - then everything open
 * in it finished, regrouped, judged and written, as the next run would. */
#include "fuzz_common.h"
#include "../../cli/statefile.h"
#include "../../correlate/fates.h"
#include "../../correlate/track.h"
#include "../../report/json.h"
#include "../../report/text.h"
#include "../../rules/policy.h"
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

static struct policy *pol;
static const char *const *names;
static size_t nnames;

static void on_message(struct message *m, void *arg)
{
	(void)arg;
	struct buf b;
	buf_init(&b);
	message_bare_addresses(m);
	fates_settle(m);
	policy_judge_message(pol, m);
	struct writer_env env = { .files = names, .nfiles = nnames };
	json_message(&b, m, &env);
	text_message(&b, m, &env);
	buf_free(&b);
	message_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!pol) {
		struct buf e;
		buf_init(&e);
		pol = policy_builtin(&e);
		buf_free(&e);
	}
	unsigned char *p = malloc(size + 32);
	if (!p)
		return 0;
	memcpy(p, data, size);
	unsigned mdn = 0;
	EVP_Digest(p, size, p + size, &mdn, EVP_sha256(), NULL);
	struct buf why;
	buf_init(&why);
	struct state_file *s = state_from_bytes(p, size + 32, &why);
	free(p);
	if (s) {
		struct inputs in;
		memset(&in, 0, sizeof in);
		if (state_match(s, &in, fuzz_devnull(), &why) < 0) {
			state_close(s);
			buf_free(&why);
			return 0;
		}
		nnames = state_nghosts(s);
		const char **v = calloc(nnames + 1, sizeof *v);
		for (size_t i = 0; v && i < nnames; i++)
			v[i] = state_ghost_name(s, i);
		names = v;
		struct tracker *t = tracker_new(on_message, NULL);
		if (v && state_load_tracker(s, t, &why))
			tracker_finish(t);
		tracker_free(t);
		free(v);
		state_close(s);
	}
	buf_free(&why);
	return 0;
}
