#!/usr/bin/env python3
"""STARTTLS-stripping SMTP middlebox for the tlswitness lab.

Listens on LISTEN_ADDR:PORT, forwards every connection to UPSTREAM:PORT and
rewrites the STARTTLS capability in the server's EHLO reply to XXXXXXXA,
which is what some firewalls ("SMTP fixup", Cisco PIX/ASA) do.  The client
then never sees STARTTLS and talks plaintext: a real downgrade.
Bounded: it exits after --max-conns connections or --seconds of run time.
"""
import argparse, selectors, socket, sys, time

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", default="127.0.0.5")
    ap.add_argument("--port", type=int, default=25)
    ap.add_argument("--upstream", default="127.0.0.2")
    ap.add_argument("--upstream-port", type=int, default=25)
    ap.add_argument("--seconds", type=int, default=600)
    ap.add_argument("--max-conns", type=int, default=200)
    a = ap.parse_args()
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.listen, a.port))
    ls.listen(16)
    sel = selectors.DefaultSelector()
    sel.register(ls, selectors.EVENT_READ, None)
    peer = {}
    deadline = time.time() + a.seconds
    conns = 0
    print("stripper ready", flush=True)
    while time.time() < deadline:
        for key, _ in sel.select(timeout=1):
            s = key.fileobj
            if s is ls:
                c, _ = ls.accept()
                conns += 1
                u = socket.create_connection((a.upstream, a.upstream_port),
                                             source_address=(a.listen, 0))
                peer[c] = (u, False)   # client -> upstream: pass through
                peer[u] = (c, True)    # upstream -> client: rewrite
                sel.register(c, selectors.EVENT_READ, None)
                sel.register(u, selectors.EVENT_READ, None)
                continue
            # Both ends of one pair can be ready in the same select(): once
            # the first has closed the pair, the second is stale.
            if s not in peer:
                continue
            other, rewrite = peer[s]
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            if data:
                if rewrite:
                    data = data.replace(b"STARTTLS", b"XXXXXXXA")
                try:
                    other.sendall(data)
                    continue
                except OSError:
                    pass
            for x in (s, other):
                sel.unregister(x)
                peer.pop(x, None)
                x.close()
        if conns >= a.max_conns and len(peer) == 0:
            break
    return 0

if __name__ == "__main__":
    sys.exit(main())
