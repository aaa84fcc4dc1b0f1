#!/usr/bin/env python3
"""Scale a real SMTP capture up for benchmarks: N copies of a classic pcap
(microsecond, either byte order; Ethernet, Linux cooked or raw IP), each
made into distinct connections - fresh client ports, times shifted by STEP
seconds a copy, and queue IDs in plaintext replies retagged in place (same
length, so TCP sequence numbers stay right).

    scale_pcap.py INPUT COPIES > OUTPUT
    scale_pcap.py INPUT --size 1G > OUTPUT    as many copies as make 1 GiB

The input is parsed once into a record template and a list of patches
(timestamps, ports, queue-ID bytes); a copy is the template with the
patches applied, so a gigabyte takes seconds.
"""
import re
import struct
import sys

STEP = 30  # as scale_log.py: copies of a log and of a capture still join
SERVER_PORTS = {25, 465, 587, 2525}
# Queue IDs where a plaintext reply names them (Postfix "queued as X",
# Sendmail "X Message accepted"); nowhere else, so TLS records and the
# certificates in them stay byte for byte what the servers sent.
QID = re.compile(rb'(?:queued as )([0-9A-Za-z]{10,15})\b|\b([0-9A-Za-z]{10,15})(?: Message accepted)')
LINK_OFFSET = {1: 14, 113: 16, 276: 20, 101: 0, 228: 0}  # DLT -> link header length


def l3_offset(link, pkt):
    off = LINK_OFFSET[link]
    if link == 1:  # Ethernet: skip 802.1Q tags
        etype = struct.unpack_from('>H', pkt, 12)[0]
        while etype in (0x8100, 0x88a8) and len(pkt) >= off + 4:
            etype = struct.unpack_from('>H', pkt, off + 2)[0]
            off += 4
    return off


def parse(path):
    data = open(path, 'rb').read()
    magic = data[:4]
    if magic == b'\xd4\xc3\xb2\xa1':
        e = '<'
    elif magic == b'\xa1\xb2\xc3\xd4':
        e = '>'
    else:
        sys.exit('%s: not a classic microsecond pcap' % path)
    link = struct.unpack_from(e + 'I', data, 20)[0] & 0x0fffffff
    if link not in LINK_OFFSET:
        sys.exit('%s: link type %d not handled' % (path, link))
    header, body = data[:24], bytearray(data[24:])
    ts, ports, qids = [], [], []
    pos = 0
    while pos + 16 <= len(body):
        incl = struct.unpack_from(e + 'I', body, pos + 8)[0]
        ts.append(pos)
        p = pos + 16
        pkt = body[p:p + incl]
        try:
            off = l3_offset(link, pkt)
            ver = pkt[off] >> 4
            if ver == 4:
                ihl = (pkt[off] & 15) * 4
                proto, l4 = pkt[off + 9], off + ihl
            elif ver == 6:
                proto, l4 = pkt[off + 6], off + 40
            else:
                proto = None
            if proto == 6 and l4 + 20 <= len(pkt):
                sport, dport = struct.unpack_from('>HH', pkt, l4)
                if dport in SERVER_PORTS:
                    ports.append((p + l4, sport))
                elif sport in SERVER_PORTS:
                    ports.append((p + l4 + 2, dport))
                doff = (pkt[l4 + 12] >> 4) * 4
                payload = bytes(pkt[l4 + doff:])
                for m in QID.finditer(payload):
                    g = 1 if m.group(1) else 2
                    qids.append(p + l4 + doff + m.start(g))
        except (IndexError, struct.error):
            pass
        pos = p + incl
    return e, header, bytes(body[:pos]), ts, ports, qids


def main():
    args = sys.argv[1:]
    if len(args) == 3 and args[1] == '--size':
        scale = {'K': 1 << 10, 'M': 1 << 20, 'G': 1 << 30}.get(args[2][-1:].upper(), 1)
        target, copies = int(args[2].rstrip('KMGkmg')) * scale, None
    elif len(args) == 2:
        target, copies = None, int(args[1])
    else:
        sys.exit(__doc__)
    e, header, body, ts, ports, qids = parse(args[0])
    if copies is None:
        copies = -(-target // len(body))
    secs = [struct.unpack_from(e + 'I', body, p)[0] for p in ts]
    out = sys.stdout.buffer
    out.write(header)
    pack_ts = struct.Struct(e + 'I').pack_into
    pack_port = struct.Struct('>H').pack_into
    for k in range(copies):
        b = bytearray(body)
        shift = STEP * k
        for p, s in zip(ts, secs):
            pack_ts(b, p, (s + shift) & 0xffffffff)
        # The same client port per connection within a copy, a new one
        # per copy: 1024 + (port + 7919 k) mod 64000.
        for p, port in ports:
            pack_port(b, p, 1024 + (port + 7919 * k) % 64000)
        tag = b'%04X' % (k % 65536)
        for p in qids:
            b[p:p + 4] = tag
        out.write(b)


if __name__ == '__main__':
    main()
