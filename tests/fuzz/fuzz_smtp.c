/* Fuzz target: the SMTP dialogue and the TLS parser on raw streams.  The
 * input is cut into chunks; each chunk's first byte says which side sent
 * it and whether a gap comes before it. */
#include "fuzz_common.h"
#include "../../ingest/smtpconv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_conv s;
	smtp_conv_init(&s, size && (data[0] & 0x80));
	size_t i = 1;
	uint64_t frame = 1;
	while (i < size) {
		uint8_t ctl = data[i++];
		size_t n = (size_t)(ctl & 0x3f) * 7 + 1;
		if (n > size - i)
			n = size - i;
		if (ctl & 0x40)
			smtp_conv_gap(&s, ctl & 0x80, n);
		smtp_conv_data(&s, ctl & 0x80, data + i, n, frame++, 0);
		i += n;
	}
	smtp_conv_free(&s);
	return 0;
}
