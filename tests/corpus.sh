#!/bin/sh
# Checks on ../shared/corpus/logs: logs written by real servers elsewhere.
#   corpus.sh TLSWITNESS CORPUS_DIR      last line: "N passed, N failed"
TW=$1 C=$2
pass=0 fail=0
check() { # description, expected, actual
  if [ "$2" = "$3" ]; then pass=$((pass + 1)); echo "ok    $1"
  else fail=$((fail + 1)); echo "FAIL  $1: expected '$2', got '$3'"; fi
}
# Without the trailing evidence manifest: these checks are about records.
run() { "$TW" -q --year 2026 --tz UTC "$@" 2>/dev/null | grep -v '^{"kind":"manifest"'; }

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
  "139 inbound cluster-c.mailcontrol.com 116.50.59.190 true TLSv1.2 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 ECDHE-RSA-AES256-GCM-SHA384 256 256 anonymous Anonymous" \
  "$(run --format events "$P" | jq -r 'select(.kind=="tls") | [.line, .direction, .peer_host, .peer_ip, .tls.used, .tls.version, .tls.cipher, .tls.cipher_openssl, .tls.bits, .tls.alg_bits, .tls.cert, .tls.cert_raw] | map(tostring) | join(" ")' | head -1)"
check "pflgviewer: the Outlook TLS line" \
  "mail-hk1on0142.outbound.protection.outlook.com 134.170.140.142 TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384 ECDHE-RSA-AES256-SHA384" \
  "$(run --format events "$P" | jq -r 'select(.kind=="tls" and (.peer_ip=="134.170.140.142")) | [.peer_host, .peer_ip, .tls.cipher, .tls.cipher_openssl] | join(" ")')"
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
# every to= line is one attempt of a recipient's delivery (retries of a
# deferred one with the same outcome are folded: the attempt's count)
check "pflgviewer: delivery attempts = smtp/local to= lines" \
  "$(grep -cE 'postfix/(smtp|local|virtual|pipe|error|lmtp|qmgr)\[[0-9]*\]: [0-9A-F]*: to=' "$P")" \
  "$(jq -r '.deliveries[] | .attempts[].count' /tmp/tw-pf.$$ | awk '{ s += $1 } END { print s + 0 }')"
check "pflgviewer: deferred retries folded" 65 \
  "$(jq -r '.deliveries[] | .attempts[].count - 1' /tmp/tw-pf.$$ | awk '{ s += $1 } END { print s + 0 }')"
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

# --- captures (../shared/corpus/pcap); expected facts checked with tshark ----
PC=$(dirname "$C")/pcap
ev() { run --format events "$PC/$1" | jq -r "$2"; }
check "01 gmail: STARTTLS offered, 220, TLS 1.2 ECDHE-RSA-AES128-GCM-SHA256 (0xc02f, ServerHello frame 14)" \
  "true accepted 220 true TLSv1.2 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 ECDHE-RSA-AES128-GCM-SHA256 128" \
  "$(ev 01_zeek_tls_smtp-starttls_tls12_gmail.pcap '[.starttls.offered, .starttls.result, .starttls.reply_code, .tls.used, .tls.version, .tls.cipher, .tls.cipher_openssl, .tls.bits] | map(tostring) | join(" ")')"
check "01 gmail: certificate in clear (TLS 1.2), parsed by libcrypto" \
  "CN=mx.google.com,O=Google Inc,L=Mountain View,ST=California,C=US false" \
  "$(ev 01_zeek_tls_smtp-starttls_tls12_gmail.pcap '[.tls.server_certificate.subject, .tls.server_certificate.self_signed] | map(tostring) | join(" ")')"
check "01 gmail: ServerHello frame is evidence" "true" \
  "$(run --format json "$PC/01_zeek_tls_smtp-starttls_tls12_gmail.pcap" | jq -r '.inbound.evidence | any(endswith("#frame=14")) | tostring')"
check "02 nDPI: IPv4 TLS 1.0 with RC4-SHA (0x0005) is weak" "TLSv1 TLS_RSA_WITH_RC4_128_SHA RC4-SHA weak high" \
  "$(run --format json "$PC/02_ndpi_smtp-starttls_ipv4-tls10rc4_ipv6-vlan125-tls12.pcap" | jq -r 'select(.host=="173.194.68.26") | [.inbound.tls.version, .inbound.tls.cipher, .inbound.tls.cipher_openssl, .verdict, .severity] | join(" ")')"
check "02 nDPI: IPv6 in VLAN 125, TLS 1.2, SNI, self-signed certificate, lost segments noticed" \
  "125 TLSv1.2 dovecot.weberlab.de true stream-gaps" \
  "$(ev 02_ndpi_smtp-starttls_ipv4-tls10rc4_ipv6-vlan125-tls12.pcap 'select(.server_ip|contains(":")) | [.vlan, .tls.version, .tls.sni, .tls.server_certificate.self_signed, (.anomalies|join(","))] | map(tostring) | join(" ")')"
check "03 suricata: TLS 1.3 named by supported_versions, not the legacy 0x0303" "TLSv1.3 0x0304 TLS_AES_256_GCM_SHA384 null" \
  "$(ev 03_suricata-verify_smtp-startssl_tls13.pcap '[.tls.version, .tls.version_raw, .tls.cipher, .tls.server_certificate] | map(tostring) | join(" ")')"
check "05a pcapng: STARTTLS offered, not used; queue ID and Message-ID from the plaintext" \
  "931C4400D5 <5682DB80.4010607@skynet.local> sanders@skynet.local false false" \
  "$(run --format json "$PC/05a_chrissanders_mail_sender_client_1_plain-offered-starttls.pcapng" | jq -r '[.queue_id, .message_id, .from, .inbound.tls.used, .inbound.tls.stripped] | map(tostring) | join(" ")')"
check "05b pcapng: the relay chain's two hops and their queue IDs" "931C4400D5 994C8617DF" \
  "$(run --format json "$PC/05b_chrissanders_mail_sender_server_2_relay-chain.pcapng" | jq -r .queue_id | tr '\n' ' ' | sed 's/ $//')"
check "05a/05b: the same session captured on two machines shows the same facts" \
  "$(run --format json "$PC/05a_chrissanders_mail_sender_client_1_plain-offered-starttls.pcapng" | jq -c 'del(.inbound.evidence, .inbound.time, .first_seen, .last_seen)')" \
  "$(run --format json "$PC/05b_chrissanders_mail_sender_server_2_relay-chain.pcapng" | jq -c 'select(.queue_id=="931C4400D5") | del(.inbound.evidence, .inbound.time, .first_seen, .last_seen)')"
check "05a+05b: the session captured on two machines is one connection, not two" \
  "931C4400D5 994C8617DF" \
  "$(run --format json "$PC/05a_chrissanders_mail_sender_client_1_plain-offered-starttls.pcapng" "$PC/05b_chrissanders_mail_sender_server_2_relay-chain.pcapng" | jq -r .queue_id | tr '\n' ' ' | sed 's/ $//')"
check "05c pcapng: the IMAP session is a login over STARTTLS (TLS 1.2), not an SMTP connection" \
  "imap 143 true accepted TLSv1.2 unseen" \
  "$(run --format events "$PC/05c_chrissanders_mail_receiver_server_3_relay+imap-starttls.pcapng" | jq -r 'select(.kind=="login") | [.service, .local_port, .starttls.offered, .starttls.result, .tls.version, .status] | map(tostring) | join(" ")')"
check "05a-05c: the relay chain followed across the three captures, duplicates once" \
  "2 172.16.16.221:931C4400D5 172.16.16.231:994C8617DF" \
  "$(run --format paths "$PC"/05a_* "$PC"/05b_* "$PC"/05c_* | jq -r '"\(.messages) " + ([.hops[] | "\(.server):\(.queue_id)"] | join(" "))')"
check "05c pcapng: the SMTP hop, IMAP on another port left alone" "994C8617DF 1" \
  "$(ev 05c_chrissanders_mail_receiver_server_3_relay+imap-starttls.pcapng '.queue_ids[]') $(run --format events "$PC/05c_chrissanders_mail_receiver_server_3_relay+imap-starttls.pcapng" | grep -c smtp-connection)"
check "06 suricata: three messages, three queue IDs, lower-case commands" \
  "B912F4BA970A BB6C44BA970C BC6DC4BA970D" \
  "$(ev 06_suricata-verify_fw135_smtp-multi-mail_3queueids.pcap '.queue_ids | join(" ")')"
check "08 suricata: binary junk answered by 500s" "5 binary-data-in-commands" \
  "$(ev 08_suricata-verify_smtp-errors_500s_465-implicit-tls.pcap 'select(.frame==1) | "\(.replies_5xx) \(.anomalies|join(","))"')"
check "08 suricata: implicit TLS on 465, a ClientHello and no ServerHello: unknown" \
  "465 null TLSv1.3 clienthello-without-serverhello" \
  "$(ev 08_suricata-verify_smtp-errors_500s_465-implicit-tls.pcap 'select(.server_port==465) | [.server_port, .tls.used, .tls.client_max_version, (.anomalies|join(","))] | map(tostring) | join(" ")')"
check "10b suricata: DLT_NULL, pipelined rset and mixed-case staRttLs answered 220" "accepted 220 null" \
  "$(ev 10b_suricata-verify_smtp-rset-starttls_pipelined_dltnull.pcap '[.starttls.result, .starttls.reply_code, .tls.used] | map(tostring) | join(" ")')"
check "12 zeek: BDAT chunks, queued as" "077781CA025 zeek@localhost" \
  "$(run --format json "$PC/12_zeek_rfc3030-bdat-multipart_queued-as.pcap" | jq -r '[.queue_id, .from] | join(" ")')"
for f in "$PC"/*; do
  check "$(basename "$f"): every packet accounted for" ok \
    "$("$TW" --format events "$f" 2>&1 >/dev/null | sed -n 's/.*: \([0-9]*\) packets: \([0-9]*\) used, \([0-9]*\) not TCP, \([0-9]*\) other ports, \([0-9]*\) truncated.*/\1 \2 \3 \4 \5/p' | { read -r a b c d e; [ "$a" = "$((b + c + d + e))" ] && echo ok; })"
done

# --- messages (../shared/corpus/mail): every hop of every message --------------
# The expected hop lists (tests/corpus-mail.expected) were read against the
# headers by hand: address, HELO, with, MTA, position, TLS used, version,
# cipher, top hop first (the cipher as its IANA name since the output
# names ciphers one way; the OpenSSL names the headers wrote map to them).
M=$(dirname "$C")/mail
for f in "$M"/*; do
  echo "== $(basename "$f")"
  run --format json "$f" | jq -r '.hops[] | [.peer_ip // "-", .from_helo // "-", .with // "-", .mta, .position, (.tls.used|tostring), (.tls.version // "-"), (.tls.cipher // "-")] | join(" ")'
done > /tmp/tw-mail.$$ 2>&1
if diff -u "$(dirname "$0")/corpus-mail.expected" /tmp/tw-mail.$$ > /tmp/tw-mail-diff.$$; then
  check "mail corpus: hop lists of all $(ls "$M" | wc -l | tr -d ' ') messages" ok ok
else
  check "mail corpus: hop lists" ok "differs: $(cat /tmp/tw-mail-diff.$$)"
fi
rm -f /tmp/tw-mail.$$ /tmp/tw-mail-diff.$$
check "mail corpus: a Postfix TLS note read whole (mitre)" "TLSv1.3 TLS_AES_256_GCM_SHA384 256 Postfix-style TLS note (using ... with cipher)" \
  "$(run --format json "$M"/usrp__mitre* | jq -r '.hops[5] | [.tls.version, .tls.cipher, .tls.bits, .tls_basis] | map(tostring) | join(" ")')"
check "mail corpus: Exchange build numbers and Gmail ids are not addresses" 0 \
  "$(for f in "$M"/*; do run --format json "$f"; done | jq -r '.hops[] | .peer_ip // empty' | grep -cE '^(15\.|14\.)[0-9]+\.[0-9]+\.[0-9]+$')"
echo "$pass passed, $fail failed"
