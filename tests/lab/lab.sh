#!/usr/bin/env bash
# The tlswitness mail-server lab: real Postfix (two instances) and real
# Sendmail on loopback, a STARTTLS-stripping middlebox, tcpdump on lo, and
# swaks as the sending client.  Every message is sent with a known TLS
# outcome, and truth.jsonl records that outcome per message and recipient.
#
#   tests/lab/lab.sh OUTDIR        run the lab, write logs, capture, truth
#
# B delivers everything into one mbox with virtual(8), so the lab also
# yields real messages with the Received headers Postfix and Sendmail wrote.
#
# Topology (all on loopback, port 25):
#   127.0.0.1  Postfix "postfix"   (A) maillog_file, STARTTLS (TLS 1.3)
#   127.0.0.2  Postfix "postfix-b" (B) syslog, STARTTLS (TLS 1.3)
#   127.0.0.3  Postfix "postfix-b" (B) syslog, STARTTLS limited to TLS 1.2
#   127.0.0.4  Postfix "postfix-b" (B) syslog, no STARTTLS offered
#   127.0.0.5  stripper.py -> 127.0.0.2, rewrites STARTTLS to XXXXXXXA
#   127.0.0.6  Sendmail, STARTTLS, relays to B
# A routes by recipient domain (transport_maps): tls13.test -> .2,
# tls12.test -> .3, plain.test -> .4, strip.test -> .5, sm.test and
# smplain.test -> .6.  Sendmail relays sm.test to .2 (TLS) and
# smplain.test to .4 (plaintext).  B stores what it receives in one mbox.
#
# Scenarios are one line each in scenarios() below: add one there.
# Needs root and Debian 12; installs what it lacks.  Cleans up on exit.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/common.sh"
lab_begin lab "${1:-}"

# --- packages ---------------------------------------------------------------
lab_packages postfix swaks tcpdump rsyslog m4 openssl python3 iproute2 procps \
  libwrap0 libldap-2.5-0 liblockfile1 libnsl2 libsasl2-2 libdb5.3

# --- clean-up ----------------------------------------------------------------
PIDS=()
cleanup() {
  set +e
  postmulti -i postfix-b -p stop >/dev/null 2>&1
  postfix stop >/dev/null 2>&1
  [ -f "$WORK/sendmail.pid" ] && kill "$(head -1 "$WORK/sendmail.pid")" 2>/dev/null
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  pkill -f "$WORK/sm/usr/libexec/sendmail/sendmail" 2>/dev/null
  [ -f "$WORK/rsyslog.pid" ] && kill "$(cat "$WORK/rsyslog.pid")" 2>/dev/null
  sleep 0.5
  # Put the machine's Postfix back as it was: its configuration, and no
  # second instance.  (/etc/hosts keeps the lab's loopback names.)
  if [ -f "$WORK/etc-postfix/main.cf" ]; then
    cp -p "$WORK/etc-postfix/main.cf" "$WORK/etc-postfix/master.cf" /etc/postfix/
    rm -f /etc/postfix/lab-transport
    rm -rf /etc/postfix-b /var/spool/postfix-b /var/lib/postfix-b
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# Stop anything a previous run or the package left listening on port 25.
postmulti -i postfix-b -p stop >/dev/null 2>&1 || true
postfix stop >/dev/null 2>&1 || true
pkill -x sendmail-mta 2>/dev/null || true
pkill -f 'libexec/sendmail/sendmail' 2>/dev/null || true
pkill -f 'tlswitness-lab.*rsyslog' 2>/dev/null || true

for i in 2 3 4 5 6; do ip addr add 127.0.0.$i/8 dev lo 2>/dev/null || true; done
grep -q "$FQDN" /etc/hosts || echo "127.0.0.1 $FQDN" >> /etc/hosts
# Sendmail sleeps a minute unless its own host name is qualified.
grep -q "$(hostname).lab.test" /etc/hosts || echo "127.0.1.1 $(hostname).lab.test $(hostname)" >> /etc/hosts
grep -q 'mx-b.lab.test' /etc/hosts || cat >> /etc/hosts <<'EOF'
127.0.0.2 mx-b.lab.test
127.0.0.3 tls12-b.lab.test
127.0.0.4 plain-b.lab.test
127.0.0.5 strip.lab.test
127.0.0.6 sm.lab.test
EOF

# Keep the machine's own Postfix configuration to restore on exit.
mkdir -p "$WORK/etc-postfix"
cp -p /etc/postfix/main.cf /etc/postfix/master.cf "$WORK/etc-postfix/"

mkdir -p "$WORK/vmail" && chown 65534:65534 "$WORK/vmail"

# --- certificates ------------------------------------------------------------
mkdir -p "$WORK/tls"
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=$FQDN" \
  -keyout "$WORK/tls/key.pem" -out "$WORK/tls/cert.pem" 2>/dev/null
chmod 600 "$WORK/tls/key.pem"

# --- rsyslog (instance B and Sendmail log through it, RFC 3339 stamps) -------
mkdir -p "$WORK/rsyslog"
: > "$OUT/syslog-mail.log"
cat > "$WORK/rsyslog/rsyslog.conf" <<EOF
module(load="imuxsock")
\$WorkDirectory $WORK/rsyslog
mail.* action(type="omfile" file="$OUT/syslog-mail.log" template="RSYSLOG_FileFormat")
EOF
rsyslogd -f "$WORK/rsyslog/rsyslog.conf" -i "$WORK/rsyslog.pid"

# --- Postfix instance A (default instance, maillog_file) ---------------------
LOGA="$OUT/postfix-a.log"
: > "$LOGA"
postconf_a() { postconf -e "$@"; }
postconf_a \
  "myhostname = $FQDN" "mydestination =" "inet_interfaces = 127.0.0.1" \
  "inet_protocols = ipv4" "mynetworks = 127.0.0.0/8" \
  "relay_domains = tls13.test tls12.test plain.test strip.test sm.test smplain.test" \
  "transport_maps = texthash:/etc/postfix/lab-transport" \
  "maillog_file_prefixes = /var, /dev/stdout, $OUT" \
  "maillog_file = $LOGA" "smtp_dns_support_level = disabled" \
  "smtpd_tls_cert_file = $WORK/tls/cert.pem" "smtpd_tls_key_file = $WORK/tls/key.pem" \
  "smtpd_tls_security_level = may" "smtp_tls_security_level = may" \
  "smtpd_tls_loglevel = 1" "smtp_tls_loglevel = 1" \
  "smtpd_tls_received_header = yes" \
  "compatibility_level = 3.6" "smtputf8_enable = no"
cat > /etc/postfix/lab-transport <<'EOF'
tls13.test    smtp:[127.0.0.2]:25
tls12.test    smtp:[127.0.0.3]:25
plain.test    smtp:[127.0.0.4]:25
strip.test    smtp:[127.0.0.5]:25
sm.test       smtp:[127.0.0.6]:25
smplain.test  smtp:[127.0.0.6]:25
EOF
# postlog must run for maillog_file; Debian's master.cf has it.  chroot off.
sed -i -E 's/^(smtp +inet +n +- +)y/\1n/; s/^(smtp +unix +- +- +)y/\1n/' /etc/postfix/master.cf

# --- Postfix instance B (postmulti, syslog) ----------------------------------
if [ ! -f /etc/postfix-b/main.cf ]; then
  postconf -e "multi_instance_directories =" "alternate_config_directories ="
  postmulti -e init >/dev/null
  postmulti -I postfix-b -e create >/dev/null
fi
postmulti -i postfix-b -e enable
postmulti -i postfix-b -x postconf -e \
  "myhostname = mx-b.lab.test" "mydestination =" \
  "inet_interfaces = 127.0.0.2, 127.0.0.3, 127.0.0.4" "inet_protocols = ipv4" \
  "mynetworks = 127.0.0.0/8" \
  "relay_domains =" \
  "virtual_mailbox_domains = tls13.test tls12.test plain.test strip.test sm.test smplain.test" \
  "virtual_mailbox_base = $WORK/vmail" "virtual_mailbox_maps = static:lab.mbox" \
  "virtual_uid_maps = static:65534" "virtual_gid_maps = static:65534" \
  "virtual_minimum_uid = 100" "smtpd_tls_received_header = yes" \
  "syslog_name = postfix-b" "maillog_file =" \
  "smtpd_tls_cert_file = $WORK/tls/cert.pem" "smtpd_tls_key_file = $WORK/tls/key.pem" \
  "smtpd_tls_security_level = may" "smtpd_tls_loglevel = 1" \
  "master_service_disable =" "authorized_submit_users = root" \
  "compatibility_level = 3.6" "smtputf8_enable = no"
MB=/etc/postfix-b/master.cf
sed -i -E '/^smtp +inet/d; /^127\.0\.0\.[234]:25 /d; /^ +-o (smtpd_tls_protocols|smtpd_tls_security_level)=/d' "$MB"
cat >> "$MB" <<'EOF'
127.0.0.2:25 inet n - n - - smtpd
127.0.0.3:25 inet n - n - - smtpd
  -o smtpd_tls_protocols=>=TLSv1.2,<=TLSv1.2
127.0.0.4:25 inet n - n - - smtpd
  -o smtpd_tls_security_level=none
EOF

# --- Sendmail, unpacked beside Postfix (dpkg -x, no conflict with Postfix) -----------------
lab_sendmail_unpack
mkdir -p "$WORK/smq" "$WORK/smcq" && chmod 700 "$WORK/smq" "$WORK/smcq"
mkdir -p "$WORK/smtls" && cp "$WORK/tls/cert.pem" "$WORK/tls/key.pem" "$WORK/smtls/"
chmod 750 "$WORK/smtls"; chmod 600 "$WORK/smtls/key.pem"
cat > "$WORK/sm/mailertable" <<'EOF'
sm.test       esmtp:[127.0.0.2]
smplain.test  esmtp:[127.0.0.4]
EOF
cat > "$WORK/sm/access" <<'EOF'
Connect:127	RELAY
EOF
cat > "$WORK/sm/service.switch" <<'EOF'
hosts files
aliases files
EOF
: > "$WORK/sm/aliases"
cat > "$WORK/sm/lab.mc" <<EOF
divert(-1)
divert(0)dnl
OSTYPE(\`debian')dnl
define(\`confDOMAIN_NAME', \`sm.lab.test')dnl
define(\`confSERVICE_SWITCH_FILE', \`$WORK/sm/service.switch')dnl
define(\`confQUEUE_DIR', \`$WORK/smq')dnl
$(lab_sendmail_mc_common)
define(\`confDELIVERY_MODE', \`background')dnl
define(\`confTO_ICONNECT', \`15s')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
FEATURE(\`accept_unresolvable_domains')dnl
FEATURE(\`mailertable', \`hash $WORK/sm/mailertable')dnl
FEATURE(\`access_db', \`hash -T<TMPF> $WORK/sm/access')dnl
DAEMON_OPTIONS(\`Family=inet, Name=MTA, Port=25, Addr=127.0.0.6')dnl
MAILER(\`smtp')dnl
EOF
lab_sendmail_cf "$WORK/sm/lab.mc" "$WORK/sm/lab.cf"
"$MAKEMAP" -C "$WORK/sm/lab.cf" hash "$WORK/sm/mailertable" < "$WORK/sm/mailertable"
"$MAKEMAP" -C "$WORK/sm/lab.cf" hash "$WORK/sm/access" < "$WORK/sm/access"

# --- start everything, with tcpdump on lo -------------------------------------
# The same traffic three ways: Ethernet framing on lo, and the Linux
# cooked v1 and v2 headers that "tcpdump -i any" writes.
tcpdump -i lo -U -s 0 -w "$OUT/lab.pcap" 'tcp port 25' >/dev/null 2>&1 &
PIDS+=($!)
tcpdump -i any -y LINUX_SLL -U -s 0 -w "$OUT/lab-sll.pcap" 'tcp port 25' >/dev/null 2>&1 &
PIDS+=($!)
tcpdump -i any -y LINUX_SLL2 -U -s 0 -w "$OUT/lab-sll2.pcap" 'tcp port 25' >/dev/null 2>&1 &
PIDS+=($!)
python3 "$HERE/stripper.py" --listen 127.0.0.5 --upstream 127.0.0.2 --seconds 900 \
  > "$WORK/stripper.log" 2>&1 &
PIDS+=($!)
# Leftover mail from an earlier, interrupted run would hold up this one.
postsuper -d ALL >/dev/null 2>&1 || true
postmulti -i postfix-b -x postsuper -d ALL >/dev/null 2>&1 || true
postfix start >/dev/null 2>&1
postmulti -i postfix-b -p status >/dev/null 2>&1 || postmulti -i postfix-b -p start
"$SMBIN" -C "$WORK/sm/lab.cf" -bd -q5s
wait_port() { for _ in $(seq 50); do (exec 3<>"/dev/tcp/$1/25") 2>/dev/null && return 0; sleep 0.2; done; say "nothing listens on $1:25"; return 1; }
for a in 127.0.0.1 127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.5 127.0.0.6; do wait_port $a; done
sleep 1

# --- scenarios -----------------------------------------------------------------
# Truth is one JSON line per (instance, message, hop, recipient): what really
# crossed the wire, known by construction of the topology above.  Inbound
# hops are keyed by recipient too, because B receives one copy per domain.
TRUTH="$OUT/truth.jsonl"
: > "$TRUTH"
N=0
T13='"used":true,"version":"TLSv1.3","stripped":false'
T12='"used":true,"version":"TLSv1.2","stripped":false'
PLN='"used":false,"version":null,"stripped":false'
STR='"used":false,"version":null,"stripped":true'
fact() { case $1 in tls13) echo "$T13";; tls12) echo "$T12";; plain) echo "$PLN";; esac; }
row() { # instance mid hop rcpt facts
  printf '{"instance":"%s","message_id":"%s","hop":"%s","rcpt":"%s",%s}\n' "$1" "$2" "$3" "$4" "$5" >> "$TRUTH"
}
# What each hop after the first server looks like, by recipient domain:
# rows for A's delivery, and for the next servers' inbound/outbound.
route_rows() { # mid rcpt
  local mid=$1 r=$2
  case ${r#*@} in
    tls13.test) row postfix "$mid" out "$r" "$T13"; row postfix-b "$mid" in "$r" "$T13" ;;
    tls12.test) row postfix "$mid" out "$r" "$T12"; row postfix-b "$mid" in "$r" "$T12" ;;
    plain.test) row postfix "$mid" out "$r" "$PLN"; row postfix-b "$mid" in "$r" "$PLN" ;;
    strip.test) row postfix "$mid" out "$r" "$STR"; row postfix-b "$mid" in "$r" "$PLN" ;;
    sm.test)    row postfix "$mid" out "$r" "$T13"; row sendmail "$mid" in "$r" "$T13"
                row sendmail "$mid" out "$r" "$T13"; row postfix-b "$mid" in "$r" "$T13" ;;
    smplain.test) row postfix "$mid" out "$r" "$T13"; row sendmail "$mid" in "$r" "$T13"
                row sendmail "$mid" out "$r" "$PLN"; row postfix-b "$mid" in "$r" "$PLN" ;;
  esac
}
# send SERVER MODE RCPT[,RCPT...] NOTE      MODE: tls13 | tls12 | plain
send() {
  local server=$1 mode=$2 rcpts=$3 note=$4 r
  N=$((N + 1))
  local mid="<lab-$N.$RANDOM@tlswitness.test>"
  # Each message from its own client address (all of 127/8 is local), so
  # a capture connection and a log session can be told apart by address.
  local args=(--server "$server:25" --local-interface "127.0.1.$N" --from "sender$N@sender.test" --to "$rcpts"
              --helo client.lab.test --header "Message-Id: $mid"
              --header "Subject: lab $N: $note" --body "lab message $N")
  case $mode in
    tls13) args+=(--tls) ;;
    tls12) args+=(--tls --tls-protocol tlsv1_2) ;;
  esac
  swaks "${args[@]}" > "$WORK/swaks.$N" 2>&1 || { say "swaks $N failed"; cat "$WORK/swaks.$N" >&2; return 1; }
  for r in ${rcpts//,/ }; do
    if [ "$server" = 127.0.0.6 ]; then       # straight into Sendmail
      row sendmail "$mid" in "$r" "$(fact "$mode")"
      case ${r#*@} in
        sm.test) row sendmail "$mid" out "$r" "$T13"; row postfix-b "$mid" in "$r" "$T13" ;;
        smplain.test) row sendmail "$mid" out "$r" "$PLN"; row postfix-b "$mid" in "$r" "$PLN" ;;
      esac
    else
      row postfix "$mid" in "$r" "$(fact "$mode")"
      route_rows "$mid" "$r"
    fi
  done
}

scenarios() {
  send 127.0.0.1 tls13 a@tls13.test   "in TLS 1.3, out TLS 1.3"
  send 127.0.0.1 tls12 b@tls12.test   "in TLS 1.2, out TLS 1.2 with an anonymous cipher"
  send 127.0.0.1 plain c@plain.test   "in plain, out to a server that offers no STARTTLS"
  send 127.0.0.1 tls13 d@strip.test   "out through the STARTTLS-stripping middlebox"
  send 127.0.0.1 tls13 e@tls13.test,f@plain.test "one message, a TLS and a plaintext recipient"
  send 127.0.0.1 plain g@sm.test      "Postfix to Sendmail over TLS, Sendmail on over TLS"
  send 127.0.0.6 tls13 h@sm.test      "Sendmail in TLS 1.3, out TLS"
  send 127.0.0.6 plain i@smplain.test "Sendmail in plain, out plain"
  send 127.0.0.6 tls12 j@smplain.test "Sendmail in TLS 1.2, out plain"
  # A burst: smtp processes are reused across destinations.
  local k
  for k in 1 2 3 4; do
    send 127.0.0.1 plain "k$k@tls13.test,l$k@plain.test,m$k@tls12.test" "burst $k"
  done
}
scenarios
say "sent $N messages; waiting for delivery"
settle() {
  for _ in $(seq 60); do
    local q; q=$(postqueue -p 2>/dev/null | grep -c '^[0-9A-F]' || true)
    local qb; qb=$(postmulti -i postfix-b -x postqueue -p 2>/dev/null | grep -c '^[0-9A-F]' || true)
    local qs; qs=$(find "$WORK/smq" -name 'qf*' | wc -l)
    [ "$q" = 0 ] && [ "$qb" = 0 ] && [ "$qs" = 0 ] && return 0
    sleep 1
  done
  say "queues did not drain"
}
sleep 2; settle

# --- variant: Postfix A with TLS logging off -----------------------------------
postconf -e "maillog_file = $OUT/postfix-a-quiet.log" "smtpd_tls_loglevel = 0" "smtp_tls_loglevel = 0"
: > "$OUT/postfix-a-quiet.log"
postfix reload >/dev/null 2>&1; sleep 2
TRUTH="$OUT/truth-quiet.jsonl"; : > "$TRUTH"
send 127.0.0.1 tls13 q1@tls13.test "TLS logging off: in TLS, out TLS"
send 127.0.0.1 plain q2@plain.test "TLS logging off: in plain, out plain"
send 127.0.0.1 tls12 q3@tls12.test,q4@plain.test "TLS logging off: mixed"
sleep 2; settle
postconf -e "maillog_file = $LOGA" "smtpd_tls_loglevel = 1" "smtp_tls_loglevel = 1"

# --- enforcement: tlswitness's own policy map loaded into Postfix A -----------
# With TLSWITNESS set (the binary under test), the map it writes from this
# run's logs and capture becomes A's smtp_tls_policy_maps, and mail goes to
# every destination again: TLS-capable ones must now get mandatory TLS, the
# plaintext-only one must still be delivered (it is not in the map), and
# the stripping middlebox must now cause a deferral, not a plaintext send.
if [ -n "${TLSWITNESS:-}" ]; then
  "$TLSWITNESS" -q --policy-map postfix --tz UTC "$LOGA" "$OUT/postfix-a-quiet.log" \
    "$OUT/syslog-mail.log" "$OUT/lab.pcap" > "$OUT/tls_policy" || say "policy map failed"
  # Postfix looks the table up by next hop (postconf(5)), which the lab's
  # transport map sets to "[127.0.0.N]:25": rename each entry to it, as
  # the README tells a user with a transport map to do.
  awk 'NR == FNR { sub(/^smtp:/, "", $2); hop[$1] = $2; next }
       /^#/ || NF == 0 { print; next }
       { print (($1 in hop) ? hop[$1] : $1) "\t" $2 }' \
    /etc/postfix/lab-transport "$OUT/tls_policy" > "$WORK/tls_policy"
  : > "$OUT/postfix-a-enforce.log"
  postconf -e "maillog_file = $OUT/postfix-a-enforce.log" \
    "smtp_tls_policy_maps = texthash:$WORK/tls_policy"
  postfix reload >/dev/null 2>&1; sleep 2
  TRUTH="$OUT/truth-enforce.jsonl"; : > "$TRUTH"
  ER="e1@tls13.test e2@tls12.test e3@plain.test e4@strip.test e5@sm.test"
  for r in $ER; do send 127.0.0.1 plain "$r" "policy map enforced: $r"; done
  # e4 never leaves A now: drop the rows send() wrote for its way onward.
  grep -v '"rcpt":"e4@strip.test"' "$TRUTH" > "$WORK/t" || true
  grep '"instance":"postfix",[^}]*"hop":"in","rcpt":"e4@strip.test"' "$TRUTH" >> "$WORK/t"
  mv "$WORK/t" "$TRUTH"
  for _ in $(seq 30); do
    grep -q 'to=<e4@strip.test>.*status=deferred' "$OUT/postfix-a-enforce.log" &&
      [ "$(grep -c 'to=<e[1235]@.*status=sent' "$OUT/postfix-a-enforce.log")" -ge 4 ] && break
    sleep 1
  done
  # One line per recipient: the first outcome Postfix logged for it, with
  # the deferral reason cut to the words that say why.
  for r in $ER; do
    line=$(grep -m1 "to=<$r>.*status=" "$OUT/postfix-a-enforce.log" || true)
    st=$(printf '%s' "$line" | sed -nE 's/.*status=([a-z]+).*/\1/p')
    why=$(printf '%s' "$line" | grep -o 'TLS is required, but was not offered' || true)
    echo "$r ${st:-none}${why:+: $why}"
  done > "$OUT/enforce.txt"
  postsuper -d ALL deferred >/dev/null 2>&1 || true
  postconf -e "maillog_file = $LOGA" "smtp_tls_policy_maps ="
  postfix reload >/dev/null 2>&1
else
  say "TLSWITNESS not set: the policy-map enforcement phase is skipped"
fi

sleep 2
kill "${PIDS[0]}" "${PIDS[1]}" "${PIDS[2]}" 2>/dev/null || true   # tcpdump: flush the captures
cp "$WORK/vmail/lab.mbox" "$OUT/received.mbox" 2>/dev/null || say "no mailbox was written"
sleep 1
say "done: $N messages, $(wc -l < "$OUT/truth.jsonl") + $(wc -l < "$OUT/truth-quiet.jsonl") truth rows; files in $OUT"
