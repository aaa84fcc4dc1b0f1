/* Fuzz target: the capture path - libpcap reading (pcap, pcapng, gzip),
 * link layer, IP, TCP reassembly, SMTP state machine, TLS handshake
 * parsing, records and events. */
#include "fuzz_common.h"
#include "../../correlate/capconn.h"
#include "../../ingest/capture.h"
#include "../../report/events.h"

static void on_msg(struct message *m, void *arg)
{
	(void)arg;
	message_free(m);
}

static void on_conn(struct smtp_connection *c, void *arg)
{
	struct buf b;
	buf_init(&b);
	const char *files[] = { "fuzz" };
	struct writer_env env = { .files = files, .nfiles = 1 };
	struct tls_state t;
	char basis[300];
	tls_state_init(&t);
	capconn_tls(c, &t, basis, sizeof basis);
	json_connection(&b, c, &t, basis, &env);
	tls_state_free(&t);
	buf_free(&b);
	capconn_messages(c, on_msg, arg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	int fd = fuzz_file(data, size, path, sizeof path);
	if (fd < 0)
		return 0;
	struct capture_reader *cr = capture_new(NULL, 0, fuzz_devnull(), on_conn, NULL);
	struct capture_stats st;
	capture_read(cr, path, 0, &st);
	capture_stats_free(&st);
	capture_free(cr);
	close(fd);
	return 0;
}
