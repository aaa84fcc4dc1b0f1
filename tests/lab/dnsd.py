#!/usr/bin/python3
"""A small authoritative DNS server for the newer-Postfix lab (dnslib).

Postfix's DANE code uses a TLSA record only when the resolver marks the
answer authenticated (the AD bit, RFC 4035 3.2.3; Postfix's
smtp_dns_support_level = dnssec).  No real DNSSEC signing happens here:
this server answers the lab's names from a zone file and sets AD on every
answer inside a zone listed as "secure", as a validating resolver would.

  dnsd.py --listen 127.0.0.40 --zone FILE [--seconds N]

Zone file lines:  secure ZONE | NAME TYPE DATA   (TYPE: A MX TXT TLSA)
Names outside the zones are refused.  Bounded: exits after --seconds.
"""
import argparse, sys, time
from dnslib import A, MX, QTYPE, RCODE, RR, TLSA, TXT, DNSLabel
from dnslib.server import BaseResolver, DNSServer


class ZoneResolver(BaseResolver):
    def __init__(self, path):
        self.rrs, self.secure = [], []
        for line in open(path):
            f = line.split(None, 2)
            if not f or f[0].startswith("#"):
                continue
            if f[0] == "secure":
                self.secure.append(DNSLabel(f[1]))
                continue
            name, typ, data = f[0], f[1], f[2].strip()
            if typ == "A":
                rd = A(data)
            elif typ == "MX":
                pref, host = data.split()
                rd = MX(host, int(pref))
            elif typ == "TXT":
                rd = TXT(data.strip('"'))
            elif typ == "TLSA":
                u, s, m, h = data.split()
                rd = TLSA(int(u), int(s), int(m), bytes.fromhex(h))
            else:
                sys.exit("dnsd.py: %s: unknown type %s" % (path, typ))
            self.rrs.append(RR(name, getattr(QTYPE, typ), rdata=rd, ttl=60))

    def resolve(self, request, handler):
        reply = request.reply()
        q = request.q
        zone = [z for z in self.secure if q.qname.matchSuffix(z)]
        if not zone:
            reply.header.rcode = RCODE.REFUSED
            return reply
        for rr in self.rrs:
            if rr.rname == q.qname and (rr.rtype == q.qtype or q.qtype == QTYPE.ANY):
                reply.add_answer(rr)
        if not reply.rr and not any(rr.rname == q.qname for rr in self.rrs):
            reply.header.rcode = RCODE.NXDOMAIN
        reply.header.ad = 1	# the zone is "secure": answers authenticated
        reply.header.aa = 1
        return reply


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True)
    ap.add_argument("--zone", required=True)
    ap.add_argument("--seconds", type=int, default=900)
    a = ap.parse_args()
    server = DNSServer(ZoneResolver(a.zone), address=a.listen, port=53)
    server.start_thread()
    end = time.time() + a.seconds
    while time.time() < end and server.isAlive():
        time.sleep(0.5)


if __name__ == "__main__":
    main()
