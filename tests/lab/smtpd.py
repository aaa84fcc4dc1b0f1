#!/usr/bin/env python3
"""A small real SMTP server for the tlswitness topology lab.

Each instance plays one kind of peer that Postfix meets in real
deployments; the lab starts several (tests/lab/topology.sh):

  --mode sink       accept mail (RFC 5321), optionally with STARTTLS
  --mode filter     an amavis-style after-queue content filter: accept mail
                    and hand it on by SMTP to --forward HOST:PORT, answering
                    with the next server's reply ("250 2.0.0 from
                    MTA(smtp:[HOST]:PORT): 250 2.0.0 Ok: queued as QID"),
                    as amavisd-new does
  --reply-delay S   filter: answer S seconds after the next server did (a
                    filter that logs and scans after passing the message on,
                    as amavisd-new does, answers late)
  --tls-max 1.0     with STARTTLS: speak TLS 1.0 only (a legacy peer)
  --requiretls      offer REQUIRETLS (RFC 8689) once TLS is up
  --break-tls       answer STARTTLS with "220 Ready to start TLS" and close
                    the connection: a handshake failure as the client sees it
  --start-after N   listen only after N seconds (a destination down at first)

Bounded: exits after --seconds of run time.  Not a general-purpose server.
"""
import argparse, smtplib, socket, ssl, sys, threading, time

def reply(f, text):
    f.write(text.encode() + b"\r\n")
    f.flush()

def serve(conn, a, ctx):
    f = conn.makefile("rwb", buffering=0)
    reply(f, "220 %s ESMTP lab" % a.name)
    tls = False
    mail_from, rcpts = None, []
    while True:
        line = f.readline()
        if not line:
            return
        cmd = line.decode("latin-1").rstrip("\r\n")
        verb = cmd.split(" ", 1)[0].upper()
        if verb in ("EHLO", "HELO"):
            caps = ["250-%s" % a.name, "250-PIPELINING", "250-8BITMIME"]
            if ctx is not None and not tls:
                caps.append("250-STARTTLS")
            if tls and a.requiretls:
                caps.append("250-REQUIRETLS")	# RFC 8689: only over TLS
            caps.append("250 SIZE 10240000")
            reply(f, "\r\n".join(caps) if verb == "EHLO" else "250 %s" % a.name)
        elif verb == "STARTTLS" and ctx is not None and not tls:
            reply(f, "220 2.0.0 Ready to start TLS")
            if a.break_tls:
                conn.close()
                return
            try:
                conn = ctx.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError):
                return
            f = conn.makefile("rwb", buffering=0)
            tls = True
            mail_from, rcpts = None, []
        elif verb == "MAIL":
            mail_from, rcpts = cmd[10:].strip(), []
            reply(f, "250 2.1.0 Ok")
        elif verb == "RCPT":
            rcpts.append(cmd[8:].strip().strip("<>"))
            reply(f, "250 2.1.5 Ok")
        elif verb == "DATA":
            reply(f, "354 End data with <CR><LF>.<CR><LF>")
            body = []
            while True:
                l = f.readline()
                if not l or l in (b".\r\n", b".\n"):
                    break
                body.append(l[1:] if l.startswith(b"..") else l)
            reply(f, deliver(a, mail_from, rcpts, b"".join(body)))
            mail_from, rcpts = None, []
        elif verb == "RSET":
            mail_from, rcpts = None, []
            reply(f, "250 2.0.0 Ok")
        elif verb == "NOOP":
            reply(f, "250 2.0.0 Ok")
        elif verb == "QUIT":
            reply(f, "221 2.0.0 Bye")
            return
        else:
            reply(f, "502 5.5.2 Error: command not recognized")

def deliver(a, mail_from, rcpts, data):
    a.count += 1
    if a.mode != "filter":
        return "250 2.0.0 Ok: queued as LAB%05d" % a.count
    host, port = a.forward.rsplit(":", 1)
    sender = (mail_from or "").split(">", 1)[0].lstrip("<")
    try:
        s = smtplib.SMTP(host, int(port), local_hostname="localhost", timeout=30)
        s.ehlo("localhost")
        s.mail(sender)
        for r in rcpts:
            s.rcpt(r)
        code, msg = s.data(data)
        s.quit()
        time.sleep(a.reply_delay)
    except (smtplib.SMTPException, OSError) as e:
        return "451 4.5.0 Error in processing: %s" % str(e)[:100]
    # amavisd-new's form (amavisd, "from MTA(...)"): Postfix logs it in
    # the filter delivery's status text.
    return "%d 2.0.0 from MTA(smtp:[%s]:%s): %d %s" % (
        code, host, port, code, msg.decode("latin-1", "replace"))

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True)
    ap.add_argument("--port", type=int, default=25)
    ap.add_argument("--name", default="lab-peer.lab.test")
    ap.add_argument("--mode", choices=("sink", "filter"), default="sink")
    ap.add_argument("--forward")
    ap.add_argument("--reply-delay", type=float, default=0)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--tls-max", choices=("1.0", "1.2", "1.3"))
    ap.add_argument("--break-tls", action="store_true")
    ap.add_argument("--requiretls", action="store_true")
    ap.add_argument("--start-after", type=float, default=0)
    ap.add_argument("--seconds", type=int, default=900)
    a = ap.parse_args()
    a.count = 0
    ctx = None
    if a.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
        if a.tls_max == "1.0":
            # OpenSSL 3 refuses TLS 1.0 at its default security level.
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1
        elif a.tls_max == "1.2":
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    time.sleep(a.start_after)
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.listen, a.port))
    ls.listen(16)
    ls.settimeout(1)
    print("smtpd.py ready on %s:%d" % (a.listen, a.port), flush=True)
    deadline = time.time() + a.seconds
    while time.time() < deadline:
        try:
            c, _ = ls.accept()
        except socket.timeout:
            continue
        c.settimeout(60)
        threading.Thread(target=lambda c=c: guarded(c, a, ctx), daemon=True).start()
    return 0

def guarded(c, a, ctx):
    try:
        serve(c, a, ctx)
    except (OSError, ssl.SSLError):
        pass
    finally:
        try:
            c.close()
        except OSError:
            pass

if __name__ == "__main__":
    sys.exit(main())
