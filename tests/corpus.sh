#!/bin/sh
# Checks on ../shared/corpus/logs: logs written by real servers elsewhere.
#   corpus.sh TLSWITNESS CORPUS_DIR      last line: "N passed, N failed"
TW=$1 C=$2
pass=0 fail=0
check() { # description, expected, actual
  if [ "$2" = "$3" ]; then pass=$((pass + 1)); echo "ok    $1"
  else fail=$((fail + 1)); echo "FAIL  $1: expected '$2', got '$3'"; fi
}
run() { "$TW" -q --year 2026 --tz UTC "$@" 2>/dev/null; }

for f in "$C"/*.log; do
  name=$(basename "$f")
  # Runs without an input error, and every line is accounted for.
  "$TW" --format json --year 2026 --tz UTC "$f" > /tmp/tw-corpus.$$ 2> /tmp/tw-corpus-err.$$
  check "$name: exit status" 0 $?
  acct=$(grep "^tlswitness: $f:" /tmp/tw-corpus-err.$$ |
    sed -n 's/.*: \([0-9]*\) lines: \([0-9]*\) used, \([0-9]*\) ignored, \([0-9]*\) malformed, \([0-9]*\) too long.*/\1 \2 \3 \4 \5/p')
  set -- $acct
  check "$name: lines = used + ignored + malformed + too long" "$1" "$(($2 + $3 + $4 + $5))"
  check "$name: line count" "$(wc -l < "$f" | tr -d ' ')" "$1"
  check "$name: output is valid JSON Lines" ok "$(jq -e . /tmp/tw-corpus.$$ > /dev/null 2>&1 && echo ok)"
  # Every TLS summary line is recognised, and nothing else is taken for one.
  check "$name: TLS summary lines" "$(grep -c 'TLS connection established' "$f")" \
    "$(run --format events "$f" | grep -c '"kind":"tls"')"
done
rm -f /tmp/tw-corpus.$$ /tmp/tw-corpus-err.$$

P=$C/pflgviewer-postfix.log
check "pflgviewer: 12 TLS lines" 12 "$(run --format events "$P" | grep -c '"kind":"tls"')"
check "pflgviewer: first TLS line's fields" \
  "139 inbound cluster-c.mailcontrol.com 116.50.59.190 true TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384 256 256 anonymous Anonymous" \
  "$(run --format events "$P" | jq -r 'select(.kind=="tls") | [.line, .direction, .peer_host, .peer_ip, .tls.used, .tls.version, .tls.cipher, .tls.bits, .tls.alg_bits, .tls.cert, .tls.cert_raw] | map(tostring) | join(" ")' | head -1)"
check "pflgviewer: the Outlook TLS line" \
  "mail-hk1on0142.outbound.protection.outlook.com 134.170.140.142 ECDHE-RSA-AES256-SHA384" \
  "$(run --format events "$P" | jq -r 'select(.kind=="tls" and (.peer_ip=="134.170.140.142")) | [.peer_host, .peer_ip, .tls.cipher] | join(" ")')"
run --format json "$P" > /tmp/tw-pf.$$
# Every TLS session in this log ended in a NOQUEUE reject: no accepted
# message arrived over TLS.  The smtpd logs TLS, so sessions without a TLS
# line were plaintext; the smtp client never logs TLS, so deliveries are
# unknown, never plaintext.
check "pflgviewer: accepted messages that arrived over TLS" 0 \
  "$(jq -r 'select(.inbound.tls.used == true)' /tmp/tw-pf.$$ | grep -c queue_id)"
check "pflgviewer: inbound plaintext = smtpd client= lines" \
  "$(grep -c 'postfix/smtpd\[[0-9]*\]: [0-9A-F]*: client=' "$P")" \
  "$(jq -r 'select(.inbound.tls.used == false) | .queue_id' /tmp/tw-pf.$$ | wc -l | tr -d ' ')"
check "pflgviewer: deliveries called plaintext without evidence" 0 \
  "$(jq -r '.deliveries[] | select(.tls.used == false) | .rcpt' /tmp/tw-pf.$$ | wc -l | tr -d ' ')"
check "pflgviewer: deliveries = smtp/local to= lines" \
  "$(grep -cE 'postfix/(smtp|local|virtual|pipe|error|lmtp|qmgr)\[[0-9]*\]: [0-9A-F]*: to=' "$P")" \
  "$(jq -r '.deliveries[] | .rcpt' /tmp/tw-pf.$$ | wc -l | tr -d ' ')"
rm -f /tmp/tw-pf.$$

for k in kdent-mail.log kdent-mail2.log kdent-mail3.log; do
  check "$k: no hop called plaintext (no TLS line is ever logged)" 0 \
    "$(run --format json "$C/$k" | jq -r '(.inbound // empty), .deliveries[] | select(.tls.used == false) | .time' | wc -l | tr -d ' ')"
done

F=$C/fail2ban-postfix.log
check "fail2ban-postfix: lost connection after STARTTLS is a TLS failure" 1 \
  "$(run --format events "$F" | grep -c '"kind":"tls-failure"')"
check "fail2ban-postfix: multi-instance tags" "postfix-incoming postfix-smo" \
  "$(run --format events "$F" | jq -r 'select(.instance != "postfix") | .instance' | sort -u | tr '\n' ' ' | sed 's/ $//')"
S=$C/fail2ban-sendmail-reject.log
check "fail2ban-sendmail-reject: '<mail.info>' framing, from= with proto and relay" "robin ESMTP 192.168.1.45" \
  "$(run --format events "$S" | jq -r 'select(.kind=="from" and .peer_ip=="192.168.1.45") | [.host, .proto, .peer_ip] | join(" ")')"
echo "$pass passed, $fail failed"
