#!/usr/bin/env bash
# The newer-Postfix lab: a Postfix built from upstream source (3.10+, see
# tests/lab/build-postfix.sh) delivers to small real SMTP peers
# (tests/lab/smtpd.py) under every TLS security level, so that its log
# holds what Debian's 3.7 cannot write: the per-delivery "tls=" status
# (3.11+), "TLSRPT:" lines (3.10+, with libtlsrpt), DANE matches at
# smtp_tls_loglevel 2, and REQUIRETLS (RFC 8689) outcomes.
#
#   tests/lab/postfix-new.sh OUTDIR [PREFIX]     PREFIX: /opt/pf312
#
# Writes OUTDIR/postfix.log (the build's own maillog_file), truth.jsonl
# (one line a message: recipient, expected fate, the level in force and
# whether it was enforced), tls-policy (the smtp_tls_policy_maps source
# file in force) and tlsrpt.jsonl (what libtlsrpt sent to its socket:
# the policy type of every TLSRPT result).
#
# DNS: tests/lab/dnsd.py on 127.0.0.40 answers the lab's zones with the AD
# bit; Postfix runs in its own mount namespace where /etc/resolv.conf
# names that server, so the machine's resolver is left alone.
#
# Peers, all port 25:  .21 STARTTLS, self-signed;  .22 no STARTTLS;
# .23 STARTTLS, a lab-CA certificate for mx.verify.test, REQUIRETLS;
# .24 STARTTLS, self-signed, named by TLSA records;  .25 STARTTLS, a
# lab-CA certificate for mx.sts.test.  The client is 127.0.0.20.
# Same host: the build's own second smtpd on 127.0.0.26:25 (a lab-CA
# certificate for mx.samehost.test) takes samehost.test at level secure
# with REQUIRETLS (policy "[mx.samehost.test]:25 secure"), and its own cleanup rewrites the recipient to
# final.test, delivered by discard(8): an SMTP delivery to a server on
# this host that is not a content filter.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/common.sh"
lab_begin postfix-new "${1:-}"
P=${2:-/opt/pf312}
[ -x "$P/sbin/postfix" ] || { say "no Postfix at $P: run tests/lab/build-postfix.sh"; exit 2; }
lab_packages openssl python3 python3-dnslib iproute2 procps util-linux
PY=/usr/bin/python3
PC="$P/sbin/postconf"

PIDS=()
cleanup() {
  set +e
  "$P/sbin/postfix" stop >/dev/null 2>&1
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  sleep 0.5
  rm -rf "$WORK"
}
trap cleanup EXIT
postmulti -i postfix-b -p stop >/dev/null 2>&1 || true
postfix stop >/dev/null 2>&1 || true
"$P/sbin/postfix" stop >/dev/null 2>&1 || true
pkill -f 'tests/lab/smtpd.py' 2>/dev/null || true
pkill -f 'tests/lab/dnsd.py' 2>/dev/null || true
for i in 20 21 22 23 24 25 26 40; do ip addr add 127.0.0.$i/8 dev lo 2>/dev/null || true; done

# --- certificates ------------------------------------------------------------
T=$WORK/tls && mkdir -p "$T"
ossl() { openssl "$@" 2>/dev/null; }
ossl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=Lab CA" \
  -addext basicConstraints=critical,CA:TRUE -keyout "$T/ca.key" -out "$T/ca.pem"
selfsigned() {	# NAME
  ossl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=$1" \
    -addext "subjectAltName=DNS:$1" -keyout "$T/$1.key" -out "$T/$1.pem"
}
casigned() {	# NAME
  ossl req -newkey rsa:2048 -nodes -subj "/CN=$1" -keyout "$T/$1.key" -out "$T/$1.csr"
  printf 'subjectAltName=DNS:%s\n' "$1" > "$T/$1.ext"
  ossl x509 -req -in "$T/$1.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
    -days 30 -extfile "$T/$1.ext" -out "$T/$1.pem"
}
selfsigned mx.self.test; selfsigned mx.dane.test
casigned mx.verify.test; casigned mx.sts.test; casigned mx.samehost.test
selfsigned pf312.lab.test
chmod 644 "$T"/*.key	# read by smtpd.py and Postfix; throwaway keys
spki_sha256() { openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER |
  openssl dgst -sha256 -r | cut -d' ' -f1; }
FP=$(openssl x509 -in "$T/mx.self.test.pem" -noout -fingerprint -sha256 | cut -d= -f2)

# --- DNS -----------------------------------------------------------------------
Z=$WORK/zone
{
  for d in may none plain encrypt encfail verify secfail fp dane danefail nodane sts reqtls samehost; do
    echo "secure $d.test"
    echo "$d.test MX 10 mx.$d.test"
  done
  echo "mx.may.test A 127.0.0.21";      echo "mx.none.test A 127.0.0.21"
  echo "mx.plain.test A 127.0.0.22";    echo "mx.encrypt.test A 127.0.0.21"
  echo "mx.encfail.test A 127.0.0.22";  echo "mx.verify.test A 127.0.0.23"
  echo "mx.secfail.test A 127.0.0.21";  echo "mx.fp.test A 127.0.0.21"
  echo "mx.dane.test A 127.0.0.24";     echo "mx.danefail.test A 127.0.0.24"
  echo "mx.nodane.test A 127.0.0.21";   echo "mx.sts.test A 127.0.0.25"
  echo "mx.reqtls.test A 127.0.0.21";   echo "mx.samehost.test A 127.0.0.26"
  echo "_25._tcp.mx.dane.test TLSA 3 1 1 $(spki_sha256 "$T/mx.dane.test.pem")"
  echo "_25._tcp.mx.danefail.test TLSA 3 1 1 $(printf '%064d' 0)"
  for d in dane danefail sts; do
    echo "_smtp._tls.$d.test TXT \"v=TLSRPTv1; rua=mailto:tlsrpt@$d.test\""
  done
} > "$Z"
$PY "$HERE/dnsd.py" --listen 127.0.0.40 --zone "$Z" --seconds 300 > "$WORK/dnsd.log" 2>&1 &
PIDS+=($!)
printf 'nameserver 127.0.0.40\noptions trust-ad\n' > "$WORK/resolv.conf"

# --- peers ---------------------------------------------------------------------
peer() { $PY "$HERE/smtpd.py" --seconds 300 "$@" >> "$WORK/peers.log" 2>&1 & PIDS+=($!); }
peer --listen 127.0.0.21 --name mx.self.test --cert "$T/mx.self.test.pem" --key "$T/mx.self.test.key"
peer --listen 127.0.0.22 --name mx.plain.test
peer --listen 127.0.0.23 --name mx.verify.test --requiretls \
  --cert "$T/mx.verify.test.pem" --key "$T/mx.verify.test.key"
peer --listen 127.0.0.24 --name mx.dane.test --cert "$T/mx.dane.test.pem" --key "$T/mx.dane.test.key"
peer --listen 127.0.0.25 --name mx.sts.test --cert "$T/mx.sts.test.pem" --key "$T/mx.sts.test.key"

# TLSRPT collector: what libtlsrpt sends (one datagram a result).
$PY - "$P/spool/tlsrpt.sock" "$OUT/tlsrpt.jsonl" <<'EOF' &
import os, socket, sys, time
path, out = sys.argv[1], sys.argv[2]
os.makedirs(os.path.dirname(path), exist_ok=True)
if os.path.exists(path): os.unlink(path)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(path); os.chmod(path, 0o666)
s.settimeout(1); end = time.time() + 300
with open(out, "w") as f:
    while time.time() < end:
        try: d = s.recv(65536)
        except socket.timeout: continue
        f.write(d.decode("utf-8", "replace").strip() + "\n"); f.flush()
EOF
PIDS+=($!)

# --- Postfix ---------------------------------------------------------------------
LOG=$OUT/postfix.log
: > "$LOG"
cat > "$OUT/tls-policy" <<EOF
# smtp_tls_policy_maps of the newer-Postfix lab (texthash).
may.test      may
none.test     none
encrypt.test  encrypt
encfail.test  encrypt
verify.test   verify match=hostname
secfail.test  secure
fp.test       fingerprint match=$FP
[mx.samehost.test]:25 secure match=mx.samehost.test
sts.test      secure match=mx.sts.test policy_type=sts policy_domain=sts.test mx_host_pattern=mx.sts.test { policy_string = version: STSv1 } { policy_string = mode: enforce } { policy_string = mx: mx.sts.test }
EOF
"$PC" -e "myhostname = pf312.lab.test" "mydestination =" "inet_interfaces = 127.0.0.20" \
  "inet_protocols = ipv4" "mynetworks = 127.0.0.0/8" "smtp_bind_address = 127.0.0.20" \
  "maillog_file = $LOG" "maillog_file_prefixes = /var, $OUT" \
  "smtp_dns_support_level = dnssec" "smtp_host_lookup = dns" \
  "smtp_tls_security_level = dane" "smtp_tls_loglevel = 2" \
  "smtp_tls_policy_maps = texthash:$OUT/tls-policy" "smtp_tls_CAfile = $T/ca.pem" \
  "smtp_tlsrpt_enable = yes" "smtp_tlsrpt_socket_name = tlsrpt.sock" \
  "smtpd_tls_cert_file = $T/pf312.lab.test.pem" "smtpd_tls_key_file = $T/pf312.lab.test.key" \
  "smtpd_tls_security_level = may" "smtpd_tls_loglevel = 1" \
  "requiretls_enable = yes" "compatibility_level = 3.6" "smtputf8_enable = no" \
  "minimal_backoff_time = 300s" "queue_run_delay = 300s" \
  "transport_maps = texthash:$WORK/transport"
# samehost.test by its bracketed host (no MX: smtp(8) would find its own
# address there and call it a loop); the listener has its own myhostname,
# as a second server does, or smtp(8) would see its own greeting; and it
# is left out of inet_interfaces, which smtp(8) takes for its own
# addresses (smtp_addr.c: "loops back to myself").
printf 'samehost.test smtp:[mx.samehost.test]:25\nfinal.test discard:samehost\n' > "$WORK/transport"
echo "a@samehost.test a@final.test" > "$WORK/samehost-aliases"
"$PC" -M -e 'postlog/unix-dgram=postlog unix-dgram n - n - 1 postlogd' || true
sed -i -E 's/^(smtp +(inet|unix) +[-n] +- +)y/\1n/; s/^(cleanup +unix +n +- +)y/\1n/' "$P/etc/master.cf"
sed -i -E '/^smtp +inet/d; /^127\.0\.0\.2[06]:25 /,/^[^ ]/{/^ /d}; /^127\.0\.0\.2[06]:25 /d; /^cleanup-samehost /,/^[^ ]/{/^ /d}; /^cleanup-samehost /d' "$P/etc/master.cf"
cat >> "$P/etc/master.cf" <<EOF
127.0.0.20:25 inet n - n - - smtpd
127.0.0.26:25 inet n - n - - smtpd
  -o smtpd_tls_cert_file=$T/mx.samehost.test.pem -o smtpd_tls_key_file=$T/mx.samehost.test.key
  -o cleanup_service_name=cleanup-samehost -o myhostname=mx.samehost.test
cleanup-samehost unix n - n - 0 cleanup
  -o virtual_alias_maps=texthash:$WORK/samehost-aliases
EOF
unshare -m --propagation private sh -c \
  "mount --bind '$WORK/resolv.conf' /etc/resolv.conf && '$P/sbin/postfix' start" >/dev/null 2>&1
sleep 2

# --- messages ----------------------------------------------------------------------
# id rcpt fate level enforced requiretls.  The level is the one Postfix
# applied: "dane" without a TLSA record (plain, nodane, reqtls) is "may"
# (postconf(5) smtp_tls_security_level: dane falls back to opportunistic).
# REQUIRETLS (RFC 8689 4.1) forbids plaintext whatever the level.
cat > "$WORK/plan" <<'EOF'
m01 a@may.test       sent     may         false  -
m02 a@none.test      sent     none        false  -
m03 a@plain.test     sent     may         false  -
m04 a@encrypt.test   sent     encrypt     true   -
m05 a@encfail.test   deferred encrypt     true   -
m06 a@verify.test    sent     verify      true   -
m07 a@secfail.test   deferred secure      true   -
m08 a@fp.test        sent     fingerprint true   -
m09 a@dane.test      sent     dane        true   -
m10 a@danefail.test  deferred dane        true   -
m11 a@nodane.test    sent     may         false  -
m12 a@sts.test       sent     secure      true   -
m13 a@verify.test    sent     verify      true   honoured
m14 a@reqtls.test    bounced  may         true   refused
m15 a@samehost.test  sent     secure      true   honoured
EOF
$PY - "$WORK/plan" "$OUT/truth.jsonl" <<'EOF'
import json, smtplib, ssl, sys, time
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
with open(sys.argv[2], "w") as truth:
    for line in open(sys.argv[1]):
        mid, rcpt, fate, level, enforced, reqtls = line.split()
        msgid = "<%s.pf312@lab.tlswitness.test>" % mid
        s = smtplib.SMTP("127.0.0.20", 25, local_hostname="client.lab.test", timeout=30)
        s.starttls(context=ctx); s.ehlo("client.lab.test")
        body = ("From: sender@lab.tlswitness.test\r\nTo: %s\r\nSubject: %s\r\n"
                "Message-ID: %s\r\n\r\n%s\r\n" % (rcpt, mid, msgid, mid))
        opts = ["REQUIRETLS"] if reqtls != "-" else []
        s.sendmail("sender@lab.tlswitness.test", [rcpt], body, mail_options=opts)
        s.quit()
        truth.write(json.dumps({"message_id": msgid[1:-1], "rcpt": rcpt, "fate": fate,
            "level": level, "enforced": enforced == "true",
            "requiretls": None if reqtls == "-" else reqtls}) + "\n")
        time.sleep(0.3)
EOF
say "sent $(wc -l < "$WORK/plan") messages; waiting for deliveries"
for _ in $(seq 1 30); do
  done_n=$(grep -cE ' status=(sent|deferred|bounced)' "$LOG" || true)
  [ "$done_n" -ge 16 ] && break	# m15 twice: to 127.0.0.26, then discard(8)
  sleep 1
done
sleep 2
"$P/sbin/postfix" stop >/dev/null 2>&1 || true
sleep 1
say "wrote $LOG ($(wc -l < "$LOG") lines), $OUT/truth.jsonl, $OUT/tlsrpt.jsonl"
