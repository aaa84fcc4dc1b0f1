#!/usr/bin/env bash
# The three-legs lab: the sender's submission and the recipient's
# retrieval around the relay hop, with real servers on loopback.  The
# machine's Postfix with the submission (587, STARTTLS) and smtps (465,
# implicit TLS) services authenticating through Dovecot SASL, delivering
# legs.test into Dovecot's LMTP over its unix socket and tcp.legs.test over
# TCP (127.0.0.1:24); Dovecot's IMAP (143, 993) and POP3 (110, 995) for
# retrieval; tcpdump on lo.  Python's smtplib, imaplib and poplib are the mail
# clients: with TLS and in clear, with and without AUTH.
#
#   tests/lab/legs.sh OUTDIR     writes postfix.log, dovecot.log, sendmail.log, legs.pcap,
#                                truth.jsonl
#
# truth.jsonl: one line a client session: leg (submission, relay, imap,
# pop3), port, whether it used TLS, the user it authenticated as (or null),
# whether the login succeeded, and the Message-ID it submitted (with the
# LMTP transport, unix or tcp, and the mailbox's owner Dovecot saves it for).
# Needs root and Debian 12; installs what it lacks; puts the machine's
# Postfix configuration back on exit.  Never beside the other labs.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/common.sh"
lab_begin legs "${1:-}"
lab_packages postfix openssl python3 iproute2 procps tcpdump dovecot-core dovecot-imapd \
  dovecot-pop3d dovecot-lmtpd rsyslog m4 sasl2-bin libsasl2-modules libsasl2-modules-db \
  libwrap0 libldap-2.5-0 liblockfile1 libnsl2 libsasl2-2 libdb5.3
systemctl stop dovecot >/dev/null 2>&1 || pkill -x dovecot 2>/dev/null || true
pkill -f 'libexec/sendmail/sendmail' 2>/dev/null || true

TCPDUMP=
cleanup() {
  set +e
  [ -n "$TCPDUMP" ] && kill "$TCPDUMP" 2>/dev/null
  postfix stop >/dev/null 2>&1
  [ -f "$WORK/dovecot/master.pid" ] && kill "$(cat "$WORK/dovecot/master.pid")" 2>/dev/null
  [ -f "$WORK/sendmail.pid" ] && kill "$(head -1 "$WORK/sendmail.pid")" 2>/dev/null
  pkill -f "$WORK/sm/usr/libexec/sendmail/sendmail" 2>/dev/null
  [ -f "$WORK/rsyslog.pid" ] && kill "$(cat "$WORK/rsyslog.pid")" 2>/dev/null
  rm -f /etc/sasl2/Sendmail.conf
  sleep 0.5
  if [ -f "$WORK/etc-postfix/main.cf" ]; then
    cp -p "$WORK/etc-postfix/main.cf" "$WORK/etc-postfix/master.cf" /etc/postfix/
  fi
  rm -f /var/spool/postfix/private/dovecot-lmtp /var/spool/postfix/private/auth
  rm -rf "$WORK"
}
trap cleanup EXIT
postmulti -i postfix-b -p stop >/dev/null 2>&1 || true
postfix stop >/dev/null 2>&1 || true
grep -q "$FQDN" /etc/hosts || echo "127.0.0.1 $FQDN" >> /etc/hosts
mkdir -p "$WORK/etc-postfix"
cp -p /etc/postfix/main.cf /etc/postfix/master.cf "$WORK/etc-postfix/"

mkdir -p "$WORK/tls"
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=$FQDN" \
  -keyout "$WORK/tls/key.pem" -out "$WORK/tls/cert.pem" 2>/dev/null
chmod 644 "$WORK/tls/key.pem"	# read by Dovecot and Postfix alike; throwaway

# --- Dovecot: IMAP, POP3, LMTP, and SASL for Postfix --------------------------
mkdir -p "$WORK/dovecot" "$WORK/mail" && chown 65534:65534 "$WORK/mail"
# {PLAIN} passwords: a lab's throwaway users
printf '%s:{PLAIN}%s\n' alice alice-pw bob bob-pw carol carol-pw dora dora-pw > "$WORK/users"
cat > "$WORK/dovecot.conf" <<EOF
protocols = imap pop3 lmtp
listen = 127.0.0.1
base_dir = $WORK/dovecot
log_path = $OUT/dovecot.log
ssl = yes
ssl_cert = <$WORK/tls/cert.pem
ssl_key = <$WORK/tls/key.pem
# the lab logs in in clear too: a password in clear is what it must show
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = mbox:~/mail:INBOX=~/inbox
userdb {
  driver = static
  args = uid=65534 gid=65534 home=$WORK/mail/%n
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n $WORK/users
}
service auth {
  unix_listener /var/spool/postfix/private/auth {
    mode = 0666
  }
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
protocol lmtp {
  postmaster_address = postmaster@legs.test
}
EOF
: > "$OUT/dovecot.log"
dovecot -c "$WORK/dovecot.conf"

# --- Postfix: port 25, submission, smtps ----------------------------------------
LOG="$OUT/postfix.log"
: > "$LOG"
postconf -e \
  "myhostname = $FQDN" "mydestination =" "inet_interfaces = 127.0.0.1" \
  "inet_protocols = ipv4" "mynetworks = 127.0.0.0/8" \
  "virtual_mailbox_domains = legs.test tcp.legs.test" \
  "virtual_transport = lmtp:unix:private/dovecot-lmtp" \
  "transport_maps = inline:{tcp.legs.test=lmtp:inet:127.0.0.1:24}" \
  "maillog_file_prefixes = /var, /dev/stdout, $OUT" "maillog_file = $LOG" \
  "smtpd_tls_cert_file = $WORK/tls/cert.pem" "smtpd_tls_key_file = $WORK/tls/key.pem" \
  "smtpd_tls_security_level = may" "smtpd_tls_loglevel = 1" "smtp_tls_loglevel = 1" \
  "smtpd_sasl_type = dovecot" "smtpd_sasl_path = private/auth" \
  "smtpd_tls_auth_only = no" "content_filter =" "relay_domains =" \
  "compatibility_level = 3.6" "smtputf8_enable = no"
M=/etc/postfix/master.cf
sed -i -E '/^(submission|smtps) +inet/,/^[^ ]/{/^(submission|smtps) +inet/d; /^ +-o /d}' "$M"
cat >> "$M" <<'EOF'
submission inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
smtps inet n - n - - smtpd
  -o syslog_name=postfix/smtps
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
EOF
sed -i -E 's/^(smtp +inet +n +- +)y/\1n/' "$M"
postfix start >/dev/null 2>&1

# --- Sendmail: an MSA (587, AUTH required) and an MTA (25) on 127.0.0.7 -------
# Sendmail's own SASL (Cyrus, sasldb): the submission it logs as
# "AUTH=server, relay=..., authid=..., mech=..., bits=..." (LogLevel > 8) and
# on the from= line as proto=ESMTPA or ESMTPSA (RFC 3848), daemon=MSA.  It
# relays legs.test to the Postfix above, which puts it into Dovecot.
ip addr add 127.0.0.7/8 dev lo 2>/dev/null || true
grep -q 'sm.legs.test' /etc/hosts || echo "127.0.0.7 sm.legs.test" >> /etc/hosts
# Sendmail sleeps a minute unless its own host name is qualified.
grep -q "$(hostname).lab.test" /etc/hosts || echo "127.0.1.1 $(hostname).lab.test $(hostname)" >> /etc/hosts
mkdir -p "$WORK/rsyslog"
: > "$OUT/sendmail.log"
cat > "$WORK/rsyslog/rsyslog.conf" <<EOF
module(load="imuxsock")
\$WorkDirectory $WORK/rsyslog
mail.* action(type="omfile" file="$OUT/sendmail.log")
EOF
pkill -f 'tlswitness-legs.*rsyslog' 2>/dev/null || true
rsyslogd -f "$WORK/rsyslog/rsyslog.conf" -i "$WORK/rsyslog.pid"
lab_sendmail_unpack
mkdir -p "$WORK/smq" "$WORK/smcq" "$WORK/smtls" && chmod 700 "$WORK/smq" "$WORK/smcq"
cp "$WORK/tls/cert.pem" "$WORK/tls/key.pem" "$WORK/smtls/"
chmod 750 "$WORK/smtls"; chmod 600 "$WORK/smtls/key.pem"
printf 'legs.test\tesmtp:[127.0.0.1]\n' > "$SM/mailertable"
printf 'Connect:127\tRELAY\n' > "$SM/access"
printf 'hosts files\naliases files\n' > "$SM/service.switch"
: > "$SM/aliases"
# a throwaway user in Sendmail's own sasldb (realm: confAUTH_REALM)
echo erin-pw | saslpasswd2 -p -c -f "$WORK/sasldb2" -u legs.test erin
chmod 600 "$WORK/sasldb2"
mkdir -p /etc/sasl2
cat > /etc/sasl2/Sendmail.conf <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: $WORK/sasldb2
EOF
cat > "$SM/legs.mc" <<EOF
divert(0)dnl
OSTYPE(\`debian')dnl
define(\`confDOMAIN_NAME', \`sm.legs.test')dnl
define(\`confSERVICE_SWITCH_FILE', \`$SM/service.switch')dnl
$(lab_sendmail_mc_common)
define(\`confAUTH_MECHANISMS', \`PLAIN LOGIN')dnl
define(\`confAUTH_REALM', \`legs.test')dnl
TRUST_AUTH_MECH(\`PLAIN LOGIN')dnl
define(\`confDELIVERY_MODE', \`background')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
FEATURE(\`accept_unresolvable_domains')dnl
FEATURE(\`mailertable', \`hash $SM/mailertable')dnl
FEATURE(\`access_db', \`hash -T<TMPF> $SM/access')dnl
FEATURE(\`no_default_msa')dnl
DAEMON_OPTIONS(\`Family=inet, Name=MTA, Port=25, Addr=127.0.0.7')dnl
DAEMON_OPTIONS(\`Family=inet, Name=MSA, Port=587, Addr=127.0.0.7, M=Ea')dnl
MAILER(\`smtp')dnl
EOF
lab_sendmail_cf "$SM/legs.mc" "$SM/legs.cf"
"$MAKEMAP" -C "$SM/legs.cf" hash "$SM/mailertable" < "$SM/mailertable"
"$MAKEMAP" -C "$SM/legs.cf" hash "$SM/access" < "$SM/access"
"$SMBIN" -C "$SM/legs.cf" -bd -q5s

tcpdump -i lo -U -s 0 -w "$OUT/legs.pcap" \
  'tcp port 25 or tcp port 587 or tcp port 465 or tcp port 24 or tcp port 143 or tcp port 993 or tcp port 110 or tcp port 995' \
  >/dev/null 2>&1 &
TCPDUMP=$!
sleep 2

# --- the clients ------------------------------------------------------------------
/usr/bin/python3 - "$OUT/truth.jsonl" <<'EOF'
import imaplib, json, poplib, smtplib, ssl, sys, time
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
truth = open(sys.argv[1], "w")
def record(**k):
    truth.write(json.dumps(k) + "\n"); truth.flush()
def submit(n, port, tls, user, implicit=False, rcpt="dora@legs.test", host="127.0.0.1"):
    mid = "<legs-%d@lab.tlswitness.test>" % n
    body = ("From: %s@legs.test\r\nTo: %s\r\nSubject: leg %d\r\n"
            "Message-ID: %s\r\n\r\nleg %d\r\n" % (user or "relay", rcpt, n, mid, n))
    s = (smtplib.SMTP_SSL(host, port, context=ctx, local_hostname="client.lab.test", timeout=30)
         if implicit else smtplib.SMTP(host, port, local_hostname="client.lab.test", timeout=30))
    if tls and not implicit:
        s.starttls(context=ctx); s.ehlo("client.lab.test")
    if user:
        s.login(user, user + "-pw")
    s.sendmail((user or "relay") + "@legs.test", [rcpt], body)
    s.quit()
    record(leg="relay" if port == 25 else "submission", port=port, tls=tls or implicit,
           user=user, ok=True, message_id=mid[1:-1],
           lmtp="tcp" if rcpt.endswith("@tcp.legs.test") else "unix",
           owner=rcpt,	# LMTP's user is the recipient (a static userdb)
           mta="sendmail" if host == "127.0.0.7" else "postfix")
    time.sleep(0.5)
# into the mailbox over LMTP on TCP (in clear, on loopback), then the unix socket
submit(1, 587, True, "alice", rcpt="dora@tcp.legs.test")
submit(2, 587, False, "bob", rcpt="dora@tcp.legs.test")	# AUTH in clear: the password crosses in clear
submit(3, 465, False, "carol", implicit=True)
submit(4, 25, True, None)		# the relay leg, for contrast
submit(5, 25, False, None)
# Sendmail's MSA: AUTH over STARTTLS, AUTH in clear; its MTA port without AUTH
submit(6, 587, True, "erin", host="127.0.0.7")
submit(7, 587, False, "erin", host="127.0.0.7")
submit(8, 25, False, None, host="127.0.0.7")
time.sleep(8)		# Sendmail relays in the background, then Postfix into Dovecot
def imap(port, tls, user, pw, implicit=False):
    try:
        c = (imaplib.IMAP4_SSL("127.0.0.1", port, ssl_context=ctx) if implicit
             else imaplib.IMAP4("127.0.0.1", port))
        if tls and not implicit:
            c.starttls(ssl_context=ctx)
        c.login(user, pw); c.select("INBOX"); c.logout(); ok = True
    except imaplib.IMAP4.error:
        ok = False
    record(leg="imap", port=port, tls=tls or implicit, user=user, ok=ok, message_id=None)
    time.sleep(0.3)
def pop(port, tls, user, pw, implicit=False):
    try:
        c = (poplib.POP3_SSL("127.0.0.1", port, context=ctx) if implicit
             else poplib.POP3("127.0.0.1", port))
        if tls and not implicit:
            c.stls(context=ctx)
        c.user(user); c.pass_(pw); c.stat(); c.quit(); ok = True
    except poplib.error_proto:
        ok = False
    record(leg="pop3", port=port, tls=tls or implicit, user=user, ok=ok, message_id=None)
    time.sleep(0.3)
imap(143, True, "alice", "alice-pw")
imap(143, False, "bob", "bob-pw")
imap(993, False, "carol", "carol-pw", implicit=True)
imap(143, True, "alice", "wrong")		# a failed login
pop(110, True, "alice", "alice-pw")
pop(110, False, "bob", "bob-pw")
pop(995, False, "carol", "carol-pw", implicit=True)
# the mailbox's owner comes for her mail (README "Retrieval": the logins
# after delivery), as Dovecot's LMTP names her mailbox and by the local
# part alone (auth_username_format drops nothing here: both log in)
imap(143, True, "dora", "dora-pw")
pop(110, False, "dora@legs.test", "dora-pw")
EOF
sleep 2
kill "$TCPDUMP" 2>/dev/null; TCPDUMP=
postfix stop >/dev/null 2>&1 || true
sleep 1
say "wrote $LOG ($(wc -l < "$LOG") lines), $OUT/dovecot.log ($(wc -l < "$OUT/dovecot.log") lines), $OUT/sendmail.log ($(wc -l < "$OUT/sendmail.log") lines), $OUT/truth.jsonl"
