#!/usr/bin/env python3
"""Enforcement facts against lab truth (README "Enforcement").

  enforcement.py TLSWITNESS      last line: "N passed, N failed"

samples/lab-pf312 was written by Postfix 3.12 built from upstream source
(its README): every message's fate, TLS level, whether the level forbade
plaintext, and REQUIRETLS are compared with truth.jsonl; the TLS-RPT
policy types with what libtlsrpt itself sent (tlsrpt.jsonl).  The
topology lab (Debian's Postfix 3.7, no tls= status) shows --policy-table
filling in what its log does not say.
"""
import json, os, subprocess, sys

TW = sys.argv[1]
from pycheck import check, done

def run(*args):
    r = subprocess.run([TW, "-q", "--year", "2026", "--tz", "UTC"] + list(args),
                       capture_output=True, text=True)
    return r.returncode, r.stdout, r.stderr

def records(out, kind="message"):
    return [r for r in map(json.loads, out.splitlines()) if r.get("kind") == kind]

S = "samples/lab-pf312/"
truth = [json.loads(l) for l in open(S + "truth.jsonl")]
rc, out, err = run("--format", "json", "--policy-table", S + "tls-policy", S + "postfix.log")
check("pf312: a run with the lab's policy table", 0, rc)
by_mid = {}
for m in records(out):
    by_mid.setdefault((m["message_id"] or "").strip("<>"), []).extend(m["deliveries"])
level_ok = enforced_ok = fate_ok = rqt_ok = 0
for t in truth:
    ds = [d for d in by_mid.get(t["message_id"], []) if d["rcpt"] == t["rcpt"]]
    if len(ds) != 1:
        check("pf312: one delivery of %s" % t["rcpt"], 1, len(ds))
        continue
    d = ds[0]
    fate_ok += d["fate"] == t["fate"]
    level_ok += d["tls"]["level"] == t["level"]
    enforced_ok += d["tls"]["enforced"] == t["enforced"]
    want_rqt = t["requiretls"] or "no"
    rqt_ok += d["tls"]["requiretls"] == want_rqt
    if (d["fate"], d["tls"]["level"], d["tls"]["enforced"], d["tls"]["requiretls"]) != \
       (t["fate"], t["level"], t["enforced"], want_rqt):
        print("      %s: %s" % (t["rcpt"], d))
n = len(truth)
check("pf312: fates of %d messages" % n, n, fate_ok)
check("pf312: the level in force, %d messages" % n, n, level_ok)
check("pf312: enforced or not, %d messages" % n, n, enforced_ok)
check("pf312: REQUIRETLS requested, honoured, refused", n, rqt_ok)

# The policy type libtlsrpt reported (1 tlsa, 2 sts) for each TLSRPT domain.
kinds = {1: "tlsa", 2: "sts"}
sent = {}
for l in open(S + "tlsrpt.jsonl"):
    j = json.loads(l)
    sent[j["d"]] = kinds[j["policies"][0]["policy-type"]]
got = {}
for ds in by_mid.values():
    for d in ds:
        dom = d["rcpt"].split("@")[-1]
        if dom in sent:
            got[dom] = d["tls"]["policy_type"]
check("pf312: policy types as libtlsrpt sent them", sent, got)
results = {d["rcpt"].split("@")[-1]: (d["tls"]["tlsrpt"], d["tls"]["tlsrpt_failure"])
           for ds in by_mid.values() for d in ds if d["tls"]["tlsrpt"]}
check("pf312: TLSRPT results from the TLSRPT: lines",
      {"dane.test": ("success", None), "sts.test": ("success", None),
       "danefail.test": ("failure", "certificate-not-trusted")}, results)
by = {d["rcpt"]: d["tls"]["enforced_by"] for ds in by_mid.values() for d in ds}
check("pf312: what stated enforcement", ("tls-status", "requiretls"),
      (by["a@dane.test"], by["a@reqtls.test"]))

# TLS-RPT reports: the policy type in force, the MTA's own result types.
rc, out, err = run("--format", "tlsrpt", "--org", "Lab", "--contact", "tlsrpt@lab.test",
                   "--policy-table", S + "tls-policy", S + "postfix.log")
pol = {}
for r in map(json.loads, out.splitlines()):
    for p in r["policies"]:
        pol[p["policy"]["policy-domain"]] = (p["policy"]["policy-type"],
            p["summary"]["total-successful-session-count"],
            tuple(d["result-type"] for d in p.get("failure-details", [])))
check("tlsrpt: tlsa, sts and their results as libtlsrpt reported them",
      {"dane.test": ("tlsa", 1, ()), "danefail.test": ("tlsa", 0, ("certificate-not-trusted",)),
       "sts.test": ("sts", 1, ())},
      {k: pol.get(k) for k in ("dane.test", "danefail.test", "sts.test")})
check("tlsrpt: level none tried no TLS and is in no report", None, pol.get("none.test"))

# The policy map never weakens a level in force, even where nothing was
# delivered under it (secfail.test: secure, refused), and learns nothing
# from undelivered attempts.
rc, out, err = run("--policy-map", "postfix", S + "postfix.log")
mapped = dict(l.split("\t") for l in out.splitlines() if l and not l.startswith("#"))
want_in_force = {t["rcpt"].split("@")[1]: t["level"] for t in truth if t["enforced"] and
                 t["level"] not in ("may", "none")}
check("policy map: every level in force kept as it was",
      want_in_force, {k: v for k, v in mapped.items() if k in want_in_force})
check("policy map: opportunistic destinations that always took TLS get encrypt",
      ("encrypt", "encrypt"), (mapped.get("may.test"), mapped.get("nodane.test")))
rc, out, err = run("--format", "domains", S + "postfix.log")
doms = {r["domain"]: r for r in records(out, "recipient-domain")}
check("domains: enforced and opportunistic deliveries, level in force",
      {"verify.test": (2, 0, "verify"), "may.test": (0, 1, None), "secfail.test": (0, 0, "secure"),
       "samehost.test": (1, 0, "secure")},
      {k: (doms[k]["enforced"], doms[k]["opportunistic"], doms[k]["level_in_force"]) if k in doms
       else None for k in ("verify.test", "may.test", "secfail.test", "samehost.test")})
# An SMTP server on this host is not a content filter (issue: a same-host
# delivery at tls=secure/requiretls was taken for a filter hand-over).
sh = [d for ds in by_mid.values() for d in ds if d["rcpt"] == "a@samehost.test"]
check("same-host SMTP delivery: a delivery of its own, not a filter hand-over",
      [(False, None, "sent", True)], [(d["local"], d.get("filter"), d["fate"], d["tls"]["used"]) for d in sh])
enforced_n = sum(1 for ds in by_mid.values() for d in ds
                 if d["tls"]["enforced"] and d["fate"] == "sent" and not d["local"])
check("deliveries sent under an enforcing level: as many as the truth's",
      sum(1 for t in truth if t["enforced"] and t["fate"] == "sent"), enforced_n)

# Without the tls= status: the DANE and fingerprint match lines alone.
stripped = "tests/out/pf312-no-status.log"
with open(S + "postfix.log") as f, open(stripped, "w") as o:
    for l in f:
        o.write(l.replace(", tls=dane,", ",").replace(", tls=fingerprint,", ","))
rc, out, err = run("--format", "json", stripped)
facts = {d["rcpt"]: (d["tls"]["level"], d["tls"]["enforced"], d["tls"]["enforced_by"])
         for m in records(out) for d in m["deliveries"] if d["rcpt"] in ("a@dane.test", "a@fp.test")}
check("pf312 without tls=: DANE and fingerprint matches state the level",
      {"a@dane.test": ("dane", True, "dane-match"),
       "a@fp.test": ("fingerprint", True, "fingerprint-match")}, facts)

# Debian's 3.7 writes no tls=: the topology lab's policy table says enc.test
# (a transport's [127.0.0.15]:25) was at "encrypt".
T = "samples/lab-topology/"
rc, out, err = run("--format", "json", "--policy-table", T + "tls-policy", T + "postfix.log")
enc = {(d["tls"]["level"], d["tls"]["enforced"], d["tls"]["enforced_by"])
       for m in records(out) for d in m["deliveries"] if d["rcpt"].endswith("@enc.test")}
check("topology: enc.test deliveries at encrypt, from the policy table",
      {("encrypt", True, "policy-table")}, enc)
others = {d["tls"]["enforced_by"] for m in records(out) for d in m["deliveries"]
          if d["rcpt"].endswith("@good.test")}
check("topology: destinations the table does not name stay unknown", {None}, others)

# A Sendmail access file: TLS_Rcpt by the recipient's domain, TLS_Srv by
# the server (the main lab's Sendmail relays sm.test and smplain.test).
L = "samples/lab/"
rc, out, err = run("--format", "json", "--policy-table", "tests/policy/sendmail-access",
                   L + "postfix-a.log", L + "syslog-mail.log")
sm = {(m["mta"], d["rcpt"]): (d["tls"]["level"], d["tls"]["enforced_by"])
      for m in records(out) for d in m["deliveries"]
      if d["rcpt"] in ("g@sm.test", "h@smplain.test") and not d["local"]}
check("sendmail access: TLS_Srv:127.0.0.2 VERIFY, for Sendmail's deliveries only",
      {("sendmail", "g@sm.test"): ("verify", "policy-table"),
       ("postfix", "g@sm.test"): (None, None)}, sm)

# A table with a line that is not a policy: file:line:column, exit 2.
bad = "tests/out/bad-policy"
with open(bad, "w") as f:
    f.write("# comment\nexample.com   secure\nother.example  mandatory\n")
rc, out, err = run("--format", "json", "--policy-table", bad, S + "postfix.log")
check("a bad table: exit 2", 2, rc)
check("a bad table: file:line:column", True,
      err.startswith(bad + ":3:16: not a TLS security level"))
done()
