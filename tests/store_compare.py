"""The evidence store's views against the tool's own answers on the same
data (README "The evidence store"): prints one "ok"/"FAIL" line per check
(tests/pycheck.py) and nothing else; tests/store.sh counts them.

  store_compare.py CONNINFO NAME paths PATHS_JSONL
      the view tlswitness.paths against --format paths: the same paths,
      each the same hops in the same order (server, queue ID, direction,
      recipient, how the next hop was linked)
  store_compare.py CONNINFO NAME domains DOMAINS_JSONL
      tlswitness.domain_month summed over the months against --format
      domains' recipient-domain records, every count and list
  store_compare.py CONNINFO NAME policymap MAP_TEXT
      tlswitness.policy_map's mapped rows against --policy-map postfix
  store_compare.py CONNINFO NAME pathof PATHS_JSONL
      tlswitness.path_of(Message-ID), for every Message-ID of a path that
      crosses servers, against the paths of --format paths holding it
  store_compare.py CONNINFO NAME count SQL EXPECTED
      one number from SQL"""
import csv
import io
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pycheck import check  # noqa: E402


def sql(conninfo, q):
    out = subprocess.run(["psql", conninfo, "-X", "-q", "--csv", "-v", "ON_ERROR_STOP=1",
                          "-c", q], check=True, capture_output=True, text=True).stdout
    return list(csv.DictReader(io.StringIO(out)))


def records(path, kind):
    with open(path) as f:
        return [r for r in map(json.loads, f) if r.get("kind") == kind]


def hop_key(server, qid, direction, rcpt, linked):
    return (server, qid, direction, rcpt or None, linked or None)


def paths(conninfo, name, expected):
    want = sorted(tuple(hop_key(h["server"], h["queue_id"], h["direction"], h.get("rcpt"),
                                h.get("linked_by")) for h in r["hops"])
                  for r in records(expected, "path")
                  # captures and Received headers are not linked in SQL
                  if all(h.get("queue_id") for h in r["hops"]))
    rows = sql(conninfo, "SELECT path, server, queue_id, direction, rcpt, linked_by "
                         "FROM tlswitness.paths ORDER BY path, step")
    got = {}
    for r in rows:
        got.setdefault(r["path"], []).append(
            hop_key(r["server"], r["queue_id"], r["direction"], r["rcpt"], r["linked_by"]))
    got = sorted(tuple(v) for v in got.values())
    check("%s: paths view: as many paths as --format paths" % name, len(want), len(got))
    check("%s: paths view: the same paths, hop by hop" % name, want, got)
    linked = sum(1 for p in want for h in p if h[4])
    check("%s: paths view: links across servers (%d)" % (name, linked), linked,
          sum(1 for p in got for h in p if h[4]))


def pathof(conninfo, name, expected):
    want = {}
    for r in records(expected, "path"):
        hops = tuple(hop_key(h["server"], h["queue_id"], h["direction"], h.get("rcpt"),
                             h.get("linked_by")) for h in r["hops"])
        if r.get("message_id") and len({h[0] for h in hops}) > 1:
            want.setdefault(r["message_id"], []).append(hops)
    for mid in sorted(want):
        rows = sql(conninfo, "SELECT path, server, queue_id, direction, rcpt, linked_by "
                             "FROM tlswitness.path_of('%s') ORDER BY path, step"
                   % mid.replace("'", "''"))
        got = {}
        for r in rows:
            got.setdefault(r["path"], []).append(
                hop_key(r["server"], r["queue_id"], r["direction"], r["rcpt"], r["linked_by"]))
        check("%s: path_of(%s): the path --format paths writes" % (name, mid),
              sorted(want[mid]), sorted(tuple(v) for v in got.values()))
    check("%s: path_of: paths across servers to ask for" % name, True, len(want) > 0)


COUNTS = ["hops", "messages", "tls", "plaintext", "unknown", "stripped_or_refused",
          "starttls_offered", "starttls_not_offered", "downgraded", "undelivered",
          "enforced", "opportunistic"]


def domains(conninfo, name, expected):
    want = {}
    for r in records(expected, "recipient-domain"):
        v = {k: r[k] for k in COUNTS}
        v["level_in_force"] = r["level_in_force"]
        v["tls_share"] = None if r["tls_share"] is None else "%.3f" % r["tls_share"]
        v["versions"] = sorted(r["versions"])
        v["ciphers"] = sorted(r["ciphers"])
        v["certificates"] = {k: n for k, n in r["certificates"].items() if n}
        v["first_seen"], v["last_seen"] = r["first_seen"], r["last_seen"]
        want[r["domain"]] = v
    sums = ", ".join("sum(%s)::bigint AS %s" % (k, k) for k in COUNTS)
    rows = sql(conninfo, """
        SELECT domain, %s,
          (array_agg(level_in_force ORDER BY tlswitness.level_rank(level_in_force) DESC)
             FILTER (WHERE level_in_force IS NOT NULL))[1] AS level_in_force,
          to_char(min(first_seen) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS first_seen,
          to_char(max(last_seen) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS last_seen,
          (SELECT string_agg(DISTINCT v, ' ') FROM tlswitness.domain_month y, unnest(y.versions) v
             WHERE y.domain = x.domain) AS versions,
          (SELECT string_agg(DISTINCT c, ' ') FROM tlswitness.domain_month y, unnest(y.ciphers) c
             WHERE y.domain = x.domain) AS ciphers,
          sum(cert_anonymous) AS anonymous, sum(cert_untrusted) AS untrusted,
          sum(cert_trusted) AS trusted, sum(cert_verified) AS verified
        FROM tlswitness.domain_month x GROUP BY domain""" % sums)
    got = {}
    for r in rows:
        v = {k: int(r[k]) for k in COUNTS}
        v["level_in_force"] = r["level_in_force"] or None
        delivered = v["tls"] + v["plaintext"]
        v["tls_share"] = None if not delivered else "%.3f" % (v["tls"] / v["hops"])
        v["versions"] = sorted(r["versions"].split()) if r["versions"] else []
        v["ciphers"] = sorted(r["ciphers"].split()) if r["ciphers"] else []
        v["certificates"] = {k: int(r[k]) for k in ("anonymous", "untrusted", "trusted",
                                                     "verified") if int(r[k])}
        v["first_seen"], v["last_seen"] = r["first_seen"], r["last_seen"]
        got[r["domain"]] = v
    check("%s: domain_month: the same recipient domains as --format domains (%d)"
          % (name, len(want)), sorted(want), sorted(got))
    for d in sorted(set(want) & set(got)):
        check("%s: domain_month %s: every count, list and time" % (name, d), want[d], got[d])


def policymap(conninfo, name, expected):
    want = set()
    with open(expected) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                dom, level = line.split()
                want.add((dom, level))
    got = {(r["domain"], r["level"]) for r in
           sql(conninfo, "SELECT domain, level FROM tlswitness.policy_map "
                         "WHERE level IS NOT NULL")}
    check("%s: policy_map: the lines --policy-map postfix writes (%d)" % (name, len(want)),
          sorted(want), sorted(got))
    cand = {(r["domain"], r["level"]) for r in
            sql(conninfo, "SELECT domain, level FROM tlswitness.policy_map_candidates")}
    check("%s: policy_map_candidates: the same" % name, sorted(want), sorted(cand))


def count(conninfo, name, q, expected):
    rows = sql(conninfo, q)
    got = list(rows[0].values())[0] if rows else None
    check(name, expected, got)


def main():
    conninfo, name, mode = sys.argv[1:4]
    if mode == "paths":
        paths(conninfo, name, sys.argv[4])
    elif mode == "domains":
        domains(conninfo, name, sys.argv[4])
    elif mode == "policymap":
        policymap(conninfo, name, sys.argv[4])
    elif mode == "pathof":
        pathof(conninfo, name, sys.argv[4])
    elif mode == "count":
        count(conninfo, name, sys.argv[4], sys.argv[5])
    else:
        sys.exit("store_compare.py: unknown mode " + mode)


if __name__ == "__main__":
    main()
