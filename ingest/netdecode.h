/* netdecode.h - link layer, IPv4/IPv6 and TCP headers of one captured
 * packet, every read bounds-checked (tcpdump's GET_* discipline). */
#ifndef TW_NETDECODE_H
#define TW_NETDECODE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tcp_pkt {
	int family;			/* 4 or 6 */
	uint8_t src[16], dst[16];	/* IPv4 in the first 4 bytes */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;			/* TCP_SYN ... */
	const uint8_t *payload;
	size_t len;			/* payload bytes present in the capture */
	size_t wire_len;		/* payload bytes on the wire (IP length) */
	int vlan;			/* outermost 802.1Q id, -1 none */
};

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

enum decode_result {
	DEC_TCP,		/* *out filled */
	DEC_NOT_TCP,		/* ARP, UDP, ICMP, ...: not for us */
	DEC_TRUNCATED,		/* headers cut by the snap length or damaged */
	DEC_BAD_LINK,		/* link type we do not decode */
};

/* Is this libpcap link type one we decode? */
bool link_supported(int dlt);
const char *link_name(int dlt);
enum decode_result decode_packet(int dlt, const uint8_t *p, size_t caplen,
				 struct tcp_pkt *out);
/* "192.0.2.1" / "2001:db8::1" */
void addr_format(int family, const uint8_t *a, char *out, size_t outlen);

#endif
