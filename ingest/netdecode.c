/* netdecode.c - from a captured frame to a TCP segment.
 * Link types: Ethernet with 802.1Q/802.1ad (QinQ) tags (IEEE 802.1Q),
 * Linux cooked SLL and SLL2 (what "tcpdump -i any" writes), BSD loopback
 * DLT_NULL/DLT_LOOP (4-byte address family, either byte order), raw IP.
 * IPv4 (RFC 791; fragments other than the first carry no TCP header and
 * are skipped), IPv6 (RFC 8200; hop-by-hop, routing, destination-options
 * and fragment headers are skipped), TCP (RFC 9293).  Every read is
 * checked against the captured length. */
#include "netdecode.h"
#include <arpa/inet.h>
#include <pcap/dlt.h>
#include <stdio.h>
#include <string.h>

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif

#define GET16(p) ((uint16_t)((p)[0] << 8 | (p)[1]))
#define GET32(p) ((uint32_t)(p)[0] << 24 | (uint32_t)(p)[1] << 16 | (uint32_t)(p)[2] << 8 | (p)[3])

bool link_supported(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB: case DLT_LINUX_SLL: case DLT_LINUX_SLL2: case DLT_NULL:
	case DLT_LOOP: case 12: case 14: case DLT_IPV4: case DLT_IPV6:
		return true;
	default:
		return false;
	}
}

const char *link_name(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB: return "Ethernet";
	case DLT_LINUX_SLL: return "Linux cooked (SLL)";
	case DLT_LINUX_SLL2: return "Linux cooked v2 (SLL2)";
	case DLT_NULL: return "BSD loopback (DLT_NULL)";
	case DLT_LOOP: return "OpenBSD loopback (DLT_LOOP)";
	case 12: case 14: return "raw IP";	/* DLT_RAW is 12 or 14 by OS */
	case DLT_IPV4: return "raw IPv4";
	case DLT_IPV6: return "raw IPv6";
	default: return "unsupported";
	}
}

static enum decode_result decode_tcp(const uint8_t *p, size_t len, size_t wire,
				     struct tcp_pkt *out)
{
	if (len < 20)
		return DEC_TRUNCATED;
	size_t off = (size_t)(p[12] >> 4) * 4;
	if (off < 20 || off > len || off > wire)
		return DEC_TRUNCATED;
	out->sport = GET16(p);
	out->dport = GET16(p + 2);
	out->seq = GET32(p + 4);
	out->ack = GET32(p + 8);
	out->flags = p[13];
	out->payload = p + off;
	out->len = len - off;
	out->wire_len = wire - off;
	if (out->len > out->wire_len)	/* Ethernet padding after the IP packet */
		out->len = out->wire_len;
	return DEC_TCP;
}

static enum decode_result decode_ip(const uint8_t *p, size_t len, struct tcp_pkt *out)
{
	if (len < 1)
		return DEC_TRUNCATED;
	int v = p[0] >> 4;
	if (v == 4) {
		if (len < 20)
			return DEC_TRUNCATED;
		size_t ihl = (size_t)(p[0] & 15) * 4;
		size_t total = GET16(p + 2);
		if (ihl < 20 || ihl > len || total < ihl)
			return DEC_TRUNCATED;
		if (p[9] != 6)
			return DEC_NOT_TCP;
		if (GET16(p + 6) & 0x1fff)	/* a later fragment: no TCP header */
			return DEC_NOT_TCP;
		out->family = 4;
		memset(out->src, 0, sizeof out->src);
		memset(out->dst, 0, sizeof out->dst);
		memcpy(out->src, p + 12, 4);
		memcpy(out->dst, p + 16, 4);
		size_t have = len < total ? len : total;
		return decode_tcp(p + ihl, have - ihl, total - ihl, out);
	}
	if (v == 6) {
		if (len < 40)
			return DEC_TRUNCATED;
		size_t wire = 40 + (size_t)GET16(p + 4);
		uint8_t next = p[6];
		out->family = 6;
		memcpy(out->src, p + 8, 16);
		memcpy(out->dst, p + 24, 16);
		size_t off = 40;
		/* Extension headers (RFC 8200 section 4): bounded walk. */
		for (int i = 0; i < 8; i++) {
			if (next == 6)
				break;
			if (next == 0 || next == 43 || next == 60) {
				if (off + 2 > len)
					return DEC_TRUNCATED;
				uint8_t nn = p[off];
				off += ((size_t)p[off + 1] + 1) * 8;
				next = nn;
			} else if (next == 44) {	/* fragment header */
				if (off + 8 > len)
					return DEC_TRUNCATED;
				if (GET16(p + off + 2) & 0xfff8)
					return DEC_NOT_TCP;
				next = p[off];
				off += 8;
			} else {
				return DEC_NOT_TCP;
			}
		}
		if (next != 6)
			return DEC_NOT_TCP;
		if (off > len || off > wire)
			return DEC_TRUNCATED;
		size_t have = len < wire ? len : wire;
		return decode_tcp(p + off, have - off, wire - off, out);
	}
	return DEC_NOT_TCP;
}

/* An EtherType at p[-2..-1] already read: 0x0800 IPv4, 0x86dd IPv6. */
static enum decode_result by_ethertype(uint16_t et, const uint8_t *p, size_t len,
				       struct tcp_pkt *out)
{
	if (et == 0x0800 || et == 0x86dd)
		return decode_ip(p, len, out);
	return DEC_NOT_TCP;
}

enum decode_result decode_packet(int dlt, const uint8_t *p, size_t len, struct tcp_pkt *out)
{
	out->vlan = -1;
	switch (dlt) {
	case DLT_EN10MB: {
		if (len < 14)
			return DEC_TRUNCATED;
		size_t off = 12;
		uint16_t et = GET16(p + off);
		/* 802.1Q (0x8100), 802.1ad (0x88a8) and old QinQ (0x9100) tags */
		for (int i = 0; i < 4 && (et == 0x8100 || et == 0x88a8 || et == 0x9100); i++) {
			if (off + 6 > len)
				return DEC_TRUNCATED;
			if (out->vlan < 0)
				out->vlan = GET16(p + off + 2) & 0x0fff;
			off += 4;
			et = GET16(p + off);
		}
		off += 2;
		return by_ethertype(et, p + off, len - off, out);
	}
	case DLT_LINUX_SLL:	/* 16-byte header, protocol at 14 */
		if (len < 16)
			return DEC_TRUNCATED;
		return by_ethertype(GET16(p + 14), p + 16, len - 16, out);
	case DLT_LINUX_SLL2:	/* 20-byte header, protocol at 0 */
		if (len < 20)
			return DEC_TRUNCATED;
		return by_ethertype(GET16(p), p + 20, len - 20, out);
	case DLT_NULL:
	case DLT_LOOP: {
		if (len < 4)
			return DEC_TRUNCATED;
		/* The family is in the writer's byte order: accept both. */
		uint32_t fam = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
			       (uint32_t)p[3] << 24;
		if (fam > 0xffff)
			fam = GET32(p);
		/* AF_INET is 2 everywhere; AF_INET6 is 10, 24, 28 or 30 */
		if (fam == 2 || fam == 10 || fam == 24 || fam == 28 || fam == 30)
			return decode_ip(p + 4, len - 4, out);
		return DEC_NOT_TCP;
	}
	case 12: case 14: case DLT_IPV4: case DLT_IPV6:
		return decode_ip(p, len, out);
	default:
		return DEC_BAD_LINK;
	}
}

/* IPv4 is written here, digit by digit: inet_ntop goes through sprintf,
 * once per connection, a tenth of a capture's time (issue 23). */
void addr_format(int family, const uint8_t *a, char *out, size_t outlen)
{
	if (family != 6 && outlen >= 16) {
		char *p = out;
		for (int i = 0; i < 4; i++) {
			unsigned v = a[i];
			if (v >= 100)
				*p++ = (char)('0' + v / 100);
			if (v >= 10)
				*p++ = (char)('0' + v / 10 % 10);
			*p++ = (char)('0' + v % 10);
			*p++ = i < 3 ? '.' : '\0';
		}
		return;
	}
	if (!inet_ntop(family == 6 ? AF_INET6 : AF_INET, a, out, (socklen_t)outlen))
		snprintf(out, outlen, "?");
}
