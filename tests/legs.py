#!/usr/bin/env python3
"""The sender's leg against the legs lab's truth (README "Submission").

  legs.py TLSWITNESS DIR      last line: "N passed, N failed"

DIR holds postfix.log, sendmail.log, dovecot.log, legs.pcap and
truth.jsonl from tests/lab/legs.sh (a real Postfix with submission and
smtps, Dovecot SASL; a real Sendmail MSA with its own SASL): every
submitted message's arrival must say whether it was a submission, who
authenticated, whether TLS was used; the authenticated one in clear must be
the finding.
"""
import json, os, subprocess, sys

TW, D = sys.argv[1], sys.argv[2]
from pycheck import check, done

def arrivals_of(*inputs):
    """Message-ID -> the arrival hop, from a run over inputs (log records)."""
    out = subprocess.run([TW, "-q", "--format", "json", "--year", "2026", "--tz", "UTC"] +
                         [D + "/" + i for i in inputs], capture_output=True, text=True).stdout
    got = {}
    for r in map(json.loads, out.splitlines()):
        if r.get("kind") == "message" and r.get("message_id") and r.get("source") == "log":
            got[r["message_id"].strip("<>")] = r["inbound"]
    return got
truth = [json.loads(l) for l in open(D + "/truth.jsonl")]
sent = [t for t in truth if t["leg"] in ("submission", "relay")]
# each message's first server: the one its client spoke to
by_mta = {m: arrivals_of(m + ".log") for m in {t.get("mta", "postfix") for t in sent}}
arrivals = {t["message_id"]: by_mta[t.get("mta", "postfix")].get(t["message_id"]) for t in sent}
right = 0
for t in sent:
    h = arrivals.get(t["message_id"])
    got = h and (h["submission"], h["authenticated"], h["sasl_username"], h["tls"]["used"])
    want = (t["leg"] == "submission", t["user"] is not None, t["user"], t["tls"])
    right += got == want
    if got != want:
        print("      %s: want %r, got %r" % (t["message_id"], want, got))
check("every arrival, Postfix's and Sendmail's: submission, authenticated, the user, "
      "TLS (%d)" % len(sent), len(sent), right)
check("Sendmail's AUTH=server line is evidence of its arrival",
      {t["message_id"]: True for t in sent if t.get("mta") == "sendmail" and t["user"]},
      {t["message_id"]: any("AUTH=server" in open(D + "/sendmail.log").read().splitlines()
                                [int(e.rsplit(":", 1)[1]) - 1]
                            for e in arrivals[t["message_id"]]["evidence"])
       for t in sent if t.get("mta") == "sendmail" and t["user"] and arrivals[t["message_id"]]})
clear = [t["message_id"] for t in sent if t["user"] and not t["tls"]]
rules = {m: arrivals[m]["rule"] for m in clear if m in arrivals}
check("an authenticated submission in clear is the password-in-clear finding",
      {m: "internal-plaintext-authentication" for m in clear}, rules)
check("... at severity high (loopback: inside the trusted network)",
      {"high"}, {arrivals[m]["severity"] for m in clear if m in arrivals})
# Joined with the lab's capture: LMTP to Dovecot on 127.0.0.1:24 carries
# each message's Message-ID, in clear; it is a delivery into the mailbox
# store, never the TLS submission's arrival (RFC 2033: LHLO).
if os.path.exists(D + "/legs.pcap"):
    joined = {}
    for m in by_mta:
        j = arrivals_of(m + ".log", "legs.pcap")
        joined.update({t["message_id"]: j[t["message_id"]] for t in sent
                       if t.get("mta", "postfix") == m and t["message_id"] in j})
    check("joined with the capture: every arrival keeps its TLS, none in conflict",
          {t["message_id"]: (t["tls"], False) for t in sent},
          {t["message_id"]: (joined[t["message_id"]]["tls"]["used"],
                             joined[t["message_id"]].get("conflict", False))
           for t in sent if t["message_id"] in joined})

# The retrieval leg: Dovecot's login lines as evidence records, in order.
out = subprocess.run([TW, "-q", "--format", "events", "--year", "2026", "--tz", "UTC",
                      D + "/dovecot.log"], capture_output=True, text=True).stdout
logins = [(r["service"], r["user"], r["status"] == "login", r["tls_used"])
          for r in map(json.loads, out.splitlines()) if r.get("kind") == "login"]
want = [(t["leg"], t["user"], t["ok"], t["tls"]) for t in truth if t["leg"] in ("imap", "pop3")]
check("every IMAP and POP3 login: service, user, outcome, TLS (%d)" % len(want), want, logins)
check("Dovecot's 'secured' (loopback, no TLS) is not TLS", {False},
      {l[3] for l, t in zip(logins, want) if not t[3]})

# The retrieval leg in the capture (README "Retrieval"): each IMAP and POP3
# connection told by its own dialogue, 993 and 995 as implicit TLS, never
# an SMTP connection; credentials in clear named by kind and login name,
# the password in no output.
if os.path.exists(D + "/legs.pcap"):
    out = subprocess.run([TW, "-q", "--format", "events", D + "/legs.pcap"],
                         capture_output=True, text=True).stdout
    recs = [json.loads(l) for l in out.splitlines()]
    cap = sorted((r for r in recs if r.get("kind") == "login"), key=lambda r: r["frame"])
    want = [(t["leg"], t["port"], t["tls"]) for t in truth if t["leg"] in ("imap", "pop3")]
    check("capture: every IMAP and POP3 connection, its service, port and TLS (%d)" % len(want),
          want, [(r["service"], r["local_port"], r["tls_used"]) for r in cap])
    check("capture: no SMTP connection on a retrieval port", [],
          [r["server_port"] for r in recs if r.get("kind") == "smtp-connection"
           and r["server_port"] in (110, 143, 993, 995)])
    check("capture: the logins in clear, by user and outcome",
          [(t["user"], "login") for t in truth if t["leg"] in ("imap", "pop3") and not t["tls"]],
          [(r["user"], r["status"]) for r in cap if not r["tls_used"]])
    check("capture: 993 and 995 are implicit TLS with a ServerHello",
          {993: True, 995: True},
          {r["local_port"]: r["starttls"]["implicit_tls"] and r["tls"]["used"]
           for r in cap if r["local_port"] in (993, 995)})
    out = subprocess.run([TW, "-q", "--format", "json", D + "/dovecot.log", D + "/legs.pcap"],
                         capture_output=True, text=True).stdout
    check("no output names a password", False, "-pw" in out)
    judged = [json.loads(l) for l in out.splitlines()]
    judged = [r for r in judged if r.get("kind") == "login"]
    clear = sorted((r["source"], r["service"]) for r in judged
                   if r["connection"]["rule"] == "internal-plaintext-authentication")
    check("json: each login in clear is the password-in-clear finding, from the log and "
          "the capture alike",
          sorted([(s, t["leg"]) for s in ("log", "pcap") for t in truth
                  if t["leg"] in ("imap", "pop3") and not t["tls"]]), clear)
    check("json: the logins over TLS are encrypted", {"encrypted"},
          {r["verdict"] for r in judged if r["connection"]["tls"]["used"]})
    out = subprocess.run([TW, "-q", "--format", "text", D + "/dovecot.log", D + "/legs.pcap"],
                         capture_output=True, text=True).stdout
    n = sum(1 for t in truth if t["leg"] in ("imap", "pop3"))
    c = sum(1 for t in truth if t["leg"] in ("imap", "pop3") and not t["tls"])
    check("audit summary: logins counted per source, those in clear apart",
          ["Logins           %d in Dovecot's log, %d with credentials in clear" % (n, c),
           "Logins           %d in captures, %d with credentials in clear" % (n, c)],
          [l for l in out.splitlines() if l.startswith("Logins")])

# --fail-on counts the logins in clear: the nightly sweep fails on them.
r = subprocess.run([TW, "-q", "--format", "json", "--fail-on", "high", D + "/dovecot.log"],
                   capture_output=True, text=True)
check("--fail-on high: exit 1, each login in clear named with its service and user",
      (1, sorted("%s-login by %s" % (t["leg"], t["user"]) for t in truth
                 if t["leg"] in ("imap", "pop3") and not t["tls"])),
      (r.returncode, sorted(l.split("/")[1].split(" plaintext")[0] + " by " +
                            l.split(" by ")[1].split(" ")[0]
                            for l in r.stderr.splitlines() if "-login plaintext" in l)))

# --format users: the retrieval leg per user.
out = subprocess.run([TW, "-q", "--format", "users", "--year", "2026", "--tz", "UTC",
                      D + "/dovecot.log"], capture_output=True, text=True).stdout
users = {r["user"]: r for r in map(json.loads, out.splitlines()) if r.get("kind") == "user"}
want = {}
for t in truth:
    if t["leg"] in ("imap", "pop3"):
        w = want.setdefault(t["user"], [0, 0, 0, 0])
        if t["ok"]:
            w[0] += 1
            w[2 if t["tls"] else 3] += 1
        else:
            w[1] += 1
check("users: logins, failed, TLS and in clear per user", want,
      {u: [r["logins"], r["failed"], r["tls"], r["plaintext"]] for u, r in users.items()})
peers = {}
for t in truth:
    if t["leg"] in ("imap", "pop3") and t["ok"] and not t["tls"]:
        peers[t["user"]] = peers.get(t["user"], 0) + 1
check("users: the peers of the logins in clear", peers,
      {u: sum(p["count"] for p in r["plaintext_peers"]) for u, r in users.items() if r["plaintext_peers"]})

# The mailbox leg (README "Retrieval"): each delivery into Dovecot's LMTP,
# told by --format story, names the mailbox Dovecot saved it into (found
# by the session ID of its LMTP reply) and then the owner's logins after
# delivery: those by the owner's name, or by its local part alone.
def owns(user, owner):
    return user == owner or ("@" not in user and owner.split("@")[0] == user)
told, want_told = {}, {}
for t in sent:
    r = subprocess.run([TW, "-q", "--format", "story", "--year", "2026", "--tz", "UTC",
                        "--message-id", t["message_id"], D + "/sendmail.log", D + "/postfix.log",
                        D + "/dovecot.log"], capture_output=True, text=True).stdout
    saved = [l.split("the mailbox of ")[1].split(",")[0] for l in r.splitlines()
             if "Dovecot saved it into the mailbox of " in l]
    after = [l.split(" as ")[1].split(" ")[0] + (" TLS" if " over TLS" in l else " clear")
             for l in r.splitlines() if l.startswith("     2026") and " login as " in l]
    told[t["message_id"]] = (saved, after)
    want_told[t["message_id"]] = (
        [t["owner"]],
        ["%s %s" % (u["user"], "TLS" if u["tls"] else "clear") for u in truth
         if u["leg"] in ("imap", "pop3") and u["ok"] and owns(u["user"], t["owner"])])
check("story: every delivery's mailbox and its owner's logins after delivery (%d)" % len(sent),
      want_told, told)
# --format paths with a message selected: the same, as mailbox records
out = subprocess.run([TW, "-q", "--format", "paths", "--year", "2026", "--tz", "UTC",
                      "--rcpt", "dora@legs.test", "--rcpt", "dora@tcp.legs.test",
                      D + "/sendmail.log", D + "/postfix.log", D + "/dovecot.log"],
                     capture_output=True, text=True).stdout
boxes = [json.loads(l) for l in out.splitlines() if '"kind":"mailbox-leg"' in l]
check("paths: a mailbox record for each delivery, with the owner and the owner's logins",
      {m: ([w[0][0]], len(w[1]), sum(1 for x in w[1] if x.endswith("clear")))
       for m, w in want_told.items()},
      {b["message_id"].strip("<>"): ([b["owner"]], b["logins_after"], b["logins_in_clear"])
       for b in boxes})
# --until ends "after delivery": the owner's logins from the last one's
# second on are not told (the period is [since, until))
import re
stamps = []
for l in open(D + "/dovecot.log"):
    m = re.match(r"(\w{3} \d\d \d\d:\d\d:\d\d) \w+-login: Info: Login: user=<([^>]*)>", l)
    if m and owns(m.group(2), "dora@legs.test"):
        stamps.append(m.group(1))
import datetime
last = datetime.datetime.strptime("2026 " + stamps[-1], "%Y %b %d %H:%M:%S")
until = last.strftime("%Y-%m-%dT%H:%M:%SZ")
unix = [t for t in sent if t["owner"] == "dora@legs.test"][0]
r = subprocess.run([TW, "-q", "--format", "story", "--year", "2026", "--tz", "UTC", "--until", until,
                    "--message-id", unix["message_id"], D + "/postfix.log", D + "/dovecot.log"],
                   capture_output=True, text=True).stdout
check("story --until: the owner's logins before it only",
      sum(1 for s in stamps if s != stamps[-1]),
      sum(1 for l in r.splitlines() if l.startswith("     2026") and " login as " in l))
r = subprocess.run([TW, "-q", "--format", "story", "--year", "2026", "--tz", "UTC",
                    "--message-id", sent[0]["message_id"], D + "/postfix.log"],
                   capture_output=True, text=True).stdout
check("story without Dovecot's log: the mailbox is said to be unknown, no login is named",
      (1, 0), (r.count("is not in the logs read: the mailbox it went into, and whose it is, "
                       "are not known here"), r.count(" login as ")))

# the same run pseudonymised: the login name is a token, the verdict the same
import tempfile
with tempfile.NamedTemporaryFile("wb", delete=False) as k:
    k.write(b"a key of sixteen bytes or more"); key = k.name
out = subprocess.run([TW, "-q", "--format", "json", "--year", "2026", "--tz", "UTC",
                      "--pseudonymize", key, D + "/postfix.log"], capture_output=True, text=True).stdout
os.unlink(key)
names = {r["inbound"]["sasl_username"] for r in map(json.loads, out.splitlines())
         if r.get("kind") == "message" and r["inbound"]["sasl_username"]}
check("--pseudonymize turns login names into tokens", True,
      bool(names) and all(n.startswith("u-") and len(n) == 18 for n in names))
done()
