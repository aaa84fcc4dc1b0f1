#!/usr/bin/env bash
# The tlswitness topology lab: what real deployments put around the relay
# hop, with real servers on loopback.  One Postfix (the machine's own,
# maillog_file) with an after-queue content filter and a before-queue
# proxy filter, real Dovecot LMTP behind it, and small real SMTP peers
# (tests/lab/smtpd.py) that misbehave the ways real destinations do.
#
#   tests/lab/topology.sh OUTDIR     run it; writes postfix.log,
#                                    dovecot.log, topology.pcap, truth.jsonl
#
# Topology (all on loopback):
#   127.0.0.1:25     smtpd, content_filter=smtp-amavis:[127.0.0.1]:10025
#   127.0.0.1:10025  smtpd.py --mode filter (amavis style), re-injects to
#   127.0.0.1:10026  smtpd, content_filter= (the re-injection listener)
#   127.0.0.7:25     smtpd, smtpd_proxy_filter=127.0.0.1:10027 (before queue)
#   127.0.0.1:10027  smtpd behind the proxy (XFORWARD: orig_client=)
#   127.0.0.9:25     smtpd, smtpd_proxy_filter=127.0.0.1:10030, where
#                    smtpd.py --mode filter passes the message to :10027 and
#                    answers 2 s later: the queue file may be delivered and
#                    its back-end session closed before "proxy-accept"
#   127.0.0.8:25     smtpd with -o myhostname=rx1.lab.test and
#                    syslog_name=postfix/rx1: its lines carry another host
#                    name than cleanup's and qmgr's for the same queue file
#   good.test   -> 127.0.0.11 STARTTLS (TLS 1.3)
#   old.test    -> 127.0.0.17 TLS 1.0 only (a weak delivery)
#   legacy.test -> 127.0.0.12 TLS 1.0 only, to a transport that requires
#                  TLS 1.2 even at "may" (handshake fails, plaintext retry)
#   broken.test -> 127.0.0.13 answers STARTTLS with 220 and closes
#   late.test   -> 127.0.0.14 listens only after 25 s (down, then up)
#   enc.test    -> 127.0.0.15 no STARTTLS; policy "encrypt" (deferred)
#   reuse.test  -> 127.0.0.16 STARTTLS, smtp_tls_connection_reuse (tlsproxy)
#   lmtp.test   -> Dovecot LMTP on unix:private/dovecot-lmtp
#   lmtp2.test  -> Dovecot LMTP on inet:127.0.0.1:24, lmtp_tls_security_level=none
#   lmtp3.test  -> the same, lmtp_tls_security_level=may: STARTTLS to Dovecot
#                  (ssl=yes), a local hand-off whose TLS facts are kept
# One client session through the before-queue proxy carries two messages
# (tests/lab/smtpd.py is not involved: Python's smtplib, STARTTLS, then two
# MAIL transactions), as a real modoboa-style front end sees.
# Short retry timers make Postfix retry within the run; at "may" it falls
# back to plaintext only on a retry (smtp.h PLAINTEXT_FALLBACK_OK_AFTER_
# STARTTLS_FAILURE: the message must have waited min_backoff_time).
#
# truth.jsonl: one line per recipient of the message as the client sent it:
# its fate, whether the delivery that carried it used TLS, and which
# path it took through the filters.  Needs root and Debian 12; installs
# what it lacks; puts the machine's Postfix configuration back on exit.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/common.sh"
lab_begin topology "${1:-}"
lab_packages postfix swaks tcpdump openssl python3 iproute2 procps dovecot-core dovecot-lmtpd
# The package starts its own Dovecot (IMAP/POP3 on the machine's ports).
systemctl stop dovecot >/dev/null 2>&1 || pkill -x dovecot 2>/dev/null || true

PIDS=()
cleanup() {
  set +e
  postfix stop >/dev/null 2>&1
  [ -f "$WORK/dovecot/master.pid" ] && kill "$(cat "$WORK/dovecot/master.pid")" 2>/dev/null
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  sleep 0.5
  if [ -f "$WORK/etc-postfix/main.cf" ]; then
    cp -p "$WORK/etc-postfix/main.cf" "$WORK/etc-postfix/master.cf" /etc/postfix/
    rm -f /etc/postfix/topo-transport /etc/postfix/topo-tls-policy
  fi
  rm -f /var/spool/postfix/private/dovecot-lmtp
  rm -rf "$WORK"
}
trap cleanup EXIT

postmulti -i postfix-b -p stop >/dev/null 2>&1 || true
postfix stop >/dev/null 2>&1 || true
pkill -f 'tests/lab/smtpd.py' 2>/dev/null || true
for i in 7 8 9 11 12 13 14 15 16 17; do ip addr add 127.0.0.$i/8 dev lo 2>/dev/null || true; done
grep -q "$FQDN" /etc/hosts || echo "127.0.0.1 $FQDN" >> /etc/hosts

mkdir -p "$WORK/etc-postfix"
cp -p /etc/postfix/main.cf /etc/postfix/master.cf "$WORK/etc-postfix/"

mkdir -p "$WORK/tls"
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=$FQDN" \
  -keyout "$WORK/tls/key.pem" -out "$WORK/tls/cert.pem" 2>/dev/null
chmod 644 "$WORK/tls/key.pem"	# read by smtpd.py and Postfix alike; throwaway

# --- Dovecot: LMTP only, on a unix socket in Postfix's queue and on :24 ------
mkdir -p "$WORK/dovecot" "$WORK/mail" && chown 65534:65534 "$WORK/mail"
cat > "$WORK/dovecot.conf" <<EOF
protocols = lmtp
listen = 127.0.0.1
base_dir = $WORK/dovecot
log_path = $OUT/dovecot.log
ssl = yes
ssl_cert = <$WORK/tls/cert.pem
ssl_key = <$WORK/tls/key.pem
mail_location = mbox:~/mail:INBOX=~/inbox
userdb {
  driver = static
  args = uid=65534 gid=65534 home=$WORK/mail/%d/%n
}
passdb {
  driver = static
  args = nopassword=y
}
service lmtp {
  unix_listener /var/spool/postfix/private/dovecot-lmtp {
    mode = 0666
  }
  inet_listener lmtp {
    address = 127.0.0.1
    port = 24
  }
}
EOF
: > "$OUT/dovecot.log"
dovecot -c "$WORK/dovecot.conf"

# --- Postfix -------------------------------------------------------------------
LOG="$OUT/postfix.log"
: > "$LOG"
postconf -e \
  "myhostname = $FQDN" "mydestination =" "inet_interfaces = 127.0.0.1, 127.0.0.7, 127.0.0.8, 127.0.0.9" \
  "inet_protocols = ipv4" "mynetworks = 127.0.0.0/8" \
  "relay_domains = good.test old.test legacy.test broken.test late.test enc.test reuse.test lmtp.test lmtp2.test lmtp3.test" \
  "transport_maps = texthash:/etc/postfix/topo-transport" \
  "smtp_tls_policy_maps = texthash:/etc/postfix/topo-tls-policy" \
  "maillog_file_prefixes = /var, /dev/stdout, $OUT" \
  "maillog_file = $LOG" "smtp_dns_support_level = disabled" \
  "smtpd_tls_cert_file = $WORK/tls/cert.pem" "smtpd_tls_key_file = $WORK/tls/key.pem" \
  "smtpd_tls_security_level = may" "smtp_tls_security_level = may" \
  "smtpd_tls_loglevel = 1" "smtp_tls_loglevel = 1" "lmtp_tls_loglevel = 1" \
  "minimal_backoff_time = 10s" "maximal_backoff_time = 20s" "queue_run_delay = 5s" \
  "content_filter =" "compatibility_level = 3.6" "smtputf8_enable = no"
cat > /etc/postfix/topo-transport <<'EOF'
good.test     smtp:[127.0.0.11]:25
old.test      smtp:[127.0.0.17]:25
legacy.test   smtp-modern:[127.0.0.12]:25
broken.test   smtp:[127.0.0.13]:25
late.test     smtp:[127.0.0.14]:25
enc.test      smtp:[127.0.0.15]:25
reuse.test    smtp-reuse:[127.0.0.16]:25
lmtp.test     lmtp:unix:private/dovecot-lmtp
lmtp2.test    lmtp:inet:127.0.0.1:24
lmtp3.test    lmtp-tls:inet:127.0.0.1:24
EOF
cat > /etc/postfix/topo-tls-policy <<'EOF'
[127.0.0.15]:25 encrypt
EOF
cp /etc/postfix/topo-tls-policy "$OUT/tls-policy"	# --policy-table reads it
M=/etc/postfix/master.cf
sed -i -E 's/^(smtp +inet +n +- +)y/\1n/; s/^(smtp +unix +- +- +)y/\1n/; s/^(lmtp +unix +- +- +)y/\1n/' "$M"
sed -i -E '/^smtp +inet/d' "$M"
sed -i -E 's/^#(tlsproxy +unix +- +- +)y/\1n/' "$M"
cat >> "$M" <<'EOF'
127.0.0.1:25 inet n - n - - smtpd
  -o content_filter=smtp-amavis:[127.0.0.1]:10025
127.0.0.7:25 inet n - n - - smtpd
  -o smtpd_proxy_filter=127.0.0.1:10027
127.0.0.9:25 inet n - n - - smtpd
  -o smtpd_proxy_filter=127.0.0.1:10030
127.0.0.8:25 inet n - n - - smtpd
  -o myhostname=rx1.lab.test -o syslog_name=postfix/rx1
127.0.0.1:10026 inet n - n - - smtpd
  -o content_filter= -o smtpd_authorized_xforward_hosts=127.0.0.0/8
  -o smtpd_tls_security_level=none
127.0.0.1:10027 inet n - n - - smtpd
  -o content_filter= -o smtpd_authorized_xforward_hosts=127.0.0.0/8
  -o smtpd_tls_security_level=none
smtp-amavis unix - - n - 2 smtp
  -o smtp_send_xforward_command=yes -o smtp_tls_security_level=none
smtp-modern unix - - n - - smtp
  -o smtp_tls_protocols=>=TLSv1.2
lmtp-tls unix - - n - - lmtp
  -o lmtp_tls_security_level=may
smtp-reuse unix - - n - - smtp
  -o smtp_tls_connection_reuse=yes
  -o smtp_connection_cache_destinations=[127.0.0.16]:25
EOF

# --- peers and the capture -----------------------------------------------------
tcpdump -i lo -U -s 0 -w "$OUT/topology.pcap" \
  'tcp port 25 or tcp port 10025 or tcp port 10026 or tcp port 10027 or tcp port 10030 or tcp port 24' >/dev/null 2>&1 &
PIDS+=($!)
peer() { python3 "$HERE/smtpd.py" "$@" >> "$WORK/peers.log" 2>&1 & PIDS+=($!); }
C=(--cert "$WORK/tls/cert.pem" --key "$WORK/tls/key.pem")
peer --listen 127.0.0.1 --port 10025 --name amavis.lab.test --mode filter --forward 127.0.0.1:10026
peer --listen 127.0.0.1 --port 10030 --name proxyfilter.lab.test --mode filter \
  --forward 127.0.0.1:10027 --reply-delay 2
peer --listen 127.0.0.11 --name mx.good.test "${C[@]}"
peer --listen 127.0.0.12 --name mx.legacy.test "${C[@]}" --tls-max 1.0
peer --listen 127.0.0.17 --name mx.old.test "${C[@]}" --tls-max 1.0
peer --listen 127.0.0.13 --name mx.broken.test "${C[@]}" --break-tls
peer --listen 127.0.0.14 --name mx.late.test "${C[@]}" --start-after 25
peer --listen 127.0.0.15 --name mx.enc.test
peer --listen 127.0.0.16 --name mx.reuse.test "${C[@]}"
postsuper -d ALL >/dev/null 2>&1 || true
postfix start >/dev/null 2>&1
wait_port() { for _ in $(seq 50); do (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0; sleep 0.2; done; say "nothing listens on $1:$2"; return 1; }
for a in 127.0.0.1:25 127.0.0.7:25 127.0.0.8:25 127.0.0.9:25 127.0.0.1:10025 127.0.0.1:10030 127.0.0.1:10026 127.0.0.1:10027 \
         127.0.0.11:25 127.0.0.12:25 127.0.0.13:25 127.0.0.15:25 127.0.0.16:25 127.0.0.17:25 127.0.0.1:24; do
  wait_port "${a%:*}" "${a#*:}"
done

# --- scenarios -------------------------------------------------------------------
TRUTH="$OUT/truth.jsonl"
: > "$TRUTH"
N=0
# truth RCPT FATE CARRIED_TLS VIA DOWNGRADE
#   FATE: sent | expired | deleted      CARRIED_TLS: true | false | null (not carried)
#   VIA: filter (after-queue) | proxy (before-queue) | direct
#   DOWNGRADE: null | handshake-failed
truth() {
  printf '{"message_id":"%s","rcpt":"%s","arrival_tls":%s,"via":"%s","fate":"%s","carried_tls":%s,"downgrade":%s}\n' \
    "$MID" "$1" "$ARRIVAL" "$VIA" "$2" "$3" "$4" >> "$TRUTH"
}
# send ADDR MODE RCPTS NOTE: the client is 127.0.1.N, like the main lab's.
send() {
  local server=$1 mode=$2 rcpts=$3 note=$4
  N=$((N + 1))
  MID="<topo-$N.$RANDOM@tlswitness.test>"
  case $server in 127.0.0.7|127.0.0.9) VIA=proxy ;; 127.0.0.8) VIA=direct ;; *) VIA=filter ;; esac
  ARRIVAL=$([ "$mode" = tls ] && echo true || echo false)
  local args=(--server "$server:25" --local-interface "127.0.1.$N" --from "sender$N@lmtp.test"
              --to "$rcpts" --helo client.lab.test --header "Message-Id: $MID"
              --header "Subject: topology $N: $note" --body "topology message $N")
  [ "$mode" = tls ] && args+=(--tls)
  swaks "${args[@]}" > "$WORK/swaks.$N" 2>&1 || { say "swaks $N failed"; cat "$WORK/swaks.$N" >&2; return 1; }
}
qid_of() { # the queue ID of the message a recipient is waiting in
  postqueue -p | awk -v r="$1" '/^[0-9A-F]/ { q = $1; sub(/[*!]$/, "", q) } $1 == r { print q; exit }'
}

send 127.0.0.1 tls   a@good.test "after-queue filter, TLS in, TLS out"
truth a@good.test sent true null
send 127.0.0.1 plain b@good.test,c@lmtp.test "after-queue filter, plain in; TLS out and LMTP on a unix socket"
truth b@good.test sent true null; truth c@lmtp.test sent null null
send 127.0.0.7 tls   d@good.test "before-queue proxy filter, TLS in, TLS out"
truth d@good.test sent true null
# Its lmtp client's TLS line first: a hop without one is plaintext only on
# a host whose lmtp client is known to log TLS (lmtp_tls_loglevel).
send 127.0.0.7 tls   m@lmtp3.test "before-queue proxy filter, then LMTP over TCP with STARTTLS"
truth m@lmtp3.test sent true null
sleep 1
send 127.0.0.7 plain e@lmtp2.test "before-queue proxy filter, plain in, LMTP over TCP"
truth e@lmtp2.test sent false null
send 127.0.0.8 tls   r@good.test "listener with its own myhostname and syslog_name"
truth r@good.test sent true null
send 127.0.0.1 tls   o@old.test "TLS 1.0-only destination, client at its defaults: TLS 1.0"
truth o@old.test sent true null
send 127.0.0.1 tls   f@legacy.test "TLS 1.0-only destination: handshake fails, plaintext on retry"
truth f@legacy.test sent false '"handshake-failed"'
send 127.0.0.1 tls   g@broken.test "destination closes after 220 Ready to start TLS"
truth g@broken.test sent false '"handshake-failed"'
send 127.0.0.1 tls   h@late.test "destination down at first, up later"
truth h@late.test sent true null
send 127.0.0.1 tls   i@enc.test "encrypt policy, no STARTTLS: deferred, then deleted"
truth i@enc.test deleted null null
send 127.0.0.1 tls   j@enc.test "encrypt policy, no STARTTLS: deferred, then expired"
truth j@enc.test expired null null
send 127.0.0.1 tls   l@lmtp3.test "after-queue filter, then LMTP over TCP with STARTTLS"
truth l@lmtp3.test sent true null
# two messages in one TLS session through the before-queue proxy
send_session() {	# ADDR RCPT...: one STARTTLS session, a message per recipient
  local server=$1; shift
  N=$((N + 1))
  local base="topo-$N.$RANDOM" i=0
  python3 - "$server" "127.0.1.$N" "$base" "$@" <<'PYEOF' || { say "session $N failed"; return 1; }
import smtplib, ssl, sys
server, local, base, rcpts = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = smtplib.SMTP(server, 25, local_hostname="client.lab.test", source_address=(local, 0), timeout=30)
s.starttls(context=ctx); s.ehlo("client.lab.test")
for i, r in enumerate(rcpts, 1):
    mid = "<%s-%d@tlswitness.test>" % (base, i)
    s.sendmail("sender@lmtp.test", [r], "Message-Id: %s\r\nSubject: one session, message %d\r\n\r\nbody %d\r\n" % (mid, i, i))
s.quit()
PYEOF
  VIA=proxy ARRIVAL=true
  for r in "$@"; do	# LMTP over the unix socket carries no TLS
    i=$((i + 1)); MID="<$base-$i@tlswitness.test>"
    case $r in *@lmtp.test) truth "$r" sent null null ;; *) truth "$r" sent true null ;; esac
  done
}
send_session 127.0.0.7 p1@good.test p2@good.test p3@lmtp3.test
send_session 127.0.0.9 q1@lmtp.test q2@good.test q3@lmtp3.test
for k in 1 2 3 4 5 6; do   # one cached connection carries them (tlsproxy)
  send 127.0.0.1 plain "k$k@reuse.test" "burst through tlsproxy $k"
  truth "k$k@reuse.test" sent true null
done
say "sent $N messages"

# Let the retries happen: two backoff rounds, then flush what is left.
for _ in 1 2 3 4; do sleep 12; postqueue -f; done
sleep 5
qi=$(qid_of i@enc.test); qj=$(qid_of j@enc.test)
[ -n "$qi" ] && postsuper -d "$qi" >/dev/null 2>&1 || say "i@enc.test is not queued"
[ -n "$qj" ] && postsuper -e "$qj" >/dev/null 2>&1 && postqueue -i "$qj" || say "j@enc.test is not queued"
for _ in $(seq 40); do
  [ "$(postqueue -p | grep -c '^[0-9A-F]')" = 0 ] && break
  sleep 1
done
left=$(postqueue -p | grep -c '^[0-9A-F]' || true)
[ "$left" = 0 ] || { say "$left messages still queued:"; postqueue -p >&2; }
sleep 2
kill "${PIDS[0]}" 2>/dev/null || true   # tcpdump: flush the capture
sleep 1
say "done: $N messages, $(wc -l < "$TRUTH") truth rows; files in $OUT"
