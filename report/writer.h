/* writer.h - one output format behind one interface (ARCHITECTURE.md
 * "Writers").  Each format is a struct writer_class in a file of its own;
 * report/formats.c lists them in one table and the pipeline drives the one
 * chosen:
 *
 *   w = cls->begin(out, env)          once, before any input is read
 *   cls->message(w, m)                every judged message, in order
 *   cls->event(w, ev), cls->connection(w, c, tls, basis)
 *                                     every evidence record, for writers
 *                                     whose input is WRITER_EVIDENCE
 *   cls->path(w, paths, root)         every path, its messages judged, for
 *                                     writers whose input is WRITER_PATHS
 *   cls->finish(w, end)               once, after the last input
 *   cls->account(w, stderr)           (optional) what it left out
 *   cls->free(w)
 *
 * A writer appends to out (struct buf) and nothing else; the pipeline
 * flushes it and commits the file (report/output.h), so a record is
 * written whole or not at all.  message runs on the judging thread,
 * everything else on the calling thread, never two at once.
 * Ownership: env, the message, the evidence and end stay the caller's;
 * a writer copies what it keeps past the call. */
#ifndef TW_WRITER_H
#define TW_WRITER_H
#include "../util/fileid.h"
#include "../ingest/detect.h"
#include "../model/message.h"
#include <stdio.h>

struct pseudo;
struct policy;
struct manifest;
struct smtp_connection;
struct paths;
struct path_node;
struct tzconf;

/* What every writer may read, fixed for the run. */
struct writer_env {
	const char *const *files;	/* by file_id, as evidence names them */
	const char *const *paths;	/* ... as given, to read again (story) */
	const struct fileid *ids;	/* ... what each was when named (NULL: not
					   known), so a file replaced since is not
					   quoted as evidence */
	size_t nfiles;
	const struct pseudo *pseudo;	/* --pseudonymize, or NULL */
	const char *org, *contact;	/* TLS-RPT's organization-name, contact-info */
	time_t since, until;		/* --since, --until (0: open): the period asked */
	long max_findings;		/* --max-findings: rows an audit group lists */
	const struct policy *policy;	/* the rules judging (its "partners" set) */
	/* To look at the logs again (story, report/mailbox.h): each input's
	 * kind (ingest/detect.h, by file_id; NULL: all logs, nfiles of them),
	 * the zone and --year their stamps were read with. */
	const enum input_kind *kinds;
	size_t ninputs;		/* files given now; those past it are --state's
				   earlier inputs, names only */
	struct tzconf *tz;
	int year;
	/* --message-id, --queue-id, --rcpt or --from: messages asked for */
	bool messages_selected;
	/* files[] as JSON strings without their closing quote, escaped once
	 * for every evidence reference (NULL: escape each time) */
	const char *const *files_json;
	const size_t *files_json_len;	/* their lengths (NULL: strlen) */
};

struct coverage_host;

/* What the writer sees at the end. */
struct writer_end {
	const struct manifest *man;
	/* What the logs covered, per host (report/coverage.h); hosts NULL
	 * when no log was read whole (a lookup reads windows). */
	const struct coverage_host *hosts;
	size_t nhosts;
	time_t first, last;		/* the first and last line of any host */
	/* Flush what the writer appended so far (a long finish keeps its
	 * memory flat). */
	void (*flush)(void *arg);
	void *flush_arg;
};

enum writer_input {
	WRITER_MESSAGES,	/* judged messages (correlated, joined) */
	WRITER_EVIDENCE,	/* every evidence record as read, uncorrelated */
	WRITER_PATHS,		/* messages followed across servers, then judged */
};

struct writer_class {
	const char *name;		/* as --format or --policy-map names it */
	bool policy_map;		/* chosen by --policy-map, not --format */
	enum writer_input input;
	/* The writer pseudonymises what it writes itself (it keeps real
	 * messages past the call); others get messages already pseudonymised. */
	bool pseudonymizes;
	/* It takes login records too (struct message with login set, README
	 * "Retrieval"); the others never see one. */
	bool logins;
	void *(*begin)(struct buf *out, const struct writer_env *env);
	void (*message)(void *w, const struct message *m);
	void (*event)(void *w, const struct evidence *ev);
	/* A capture connection, with the TLS facts and basis the correlator
	 * found for it (correlate/capconn.h). */
	void (*connection)(void *w, const struct smtp_connection *c,
			   const struct tls_state *tls, const char *basis);
	/* A path from root on (walk it with paths_node, correlate/paths.h). */
	void (*path)(void *w, struct paths *p, struct path_node *root);
	void (*finish)(void *w, const struct writer_end *end);
	/* Optional: what the writer left out (past its bounds), for the
	 * accounting on standard error. */
	void (*account)(void *w, FILE *f);
	void (*free)(void *w);
};

/* The class --format NAME (policy_map false) or --policy-map NAME (true)
 * names, NULL if none. */
const struct writer_class *writer_lookup(const char *name, bool policy_map);
/* The names one option takes, for its messages: "a, b, c" with last_sep
 * before the last ("a, b or c" with " or "). */
void writer_names(struct buf *out, bool policy_map, const char *last_sep);

/* The state most writers keep: where to write, what they may read.
 * writer_base_begin allocates one (freed with free). */
struct writer_base {
	struct buf *out;
	const struct writer_env *env;
};
void *writer_base_begin(struct buf *out, const struct writer_env *env);

/* The name of an evidence reference's file, as given on the command
 * line; "?" for an id outside the table. */
const char *writer_file(const struct writer_env *env, int file_id);

#endif
