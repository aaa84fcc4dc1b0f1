# common.sh - what the lab scripts (lab.sh, topology.sh, legs.sh) share; sourced.
# Sets OUT (absolute), HERE, WORK (a fresh folder under /var/lib, not /tmp:
# Sendmail refuses files below a world-writable directory) and FQDN, and
# defines say.  Usage: lab_begin NAME OUTDIR
lab_begin() {
  LAB_NAME=$1
  OUT=${2:?usage: $LAB_NAME OUTDIR}
  mkdir -p "$OUT"
  OUT=$(cd "$OUT" && pwd)
  WORK=$(mktemp -d "/var/lib/tlswitness-$LAB_NAME.XXXXXX")
  chmod 755 "$WORK"
  FQDN=lab.tlswitness.test
}
say() { printf '%s: %s\n' "$LAB_NAME" "$*" >&2; }

# lab_packages PKG...: install the missing ones (Postfix answers its
# debconf questions: local only, the lab's mail name).
lab_packages() {
  local need=() p
  for p in "$@"; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
  done
  [ ${#need[@]} -gt 0 ] || return 0
  say "installing ${need[*]}"
  echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections
  echo "postfix postfix/mailname string $FQDN" | debconf-set-selections
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null
}

# lab_sendmail_unpack: Debian's Sendmail unpacked into $WORK/sm (dpkg -x:
# no conflict with the machine's Postfix).  Sets SM, CFDIR, MAKEMAP, SMBIN;
# lab_sendmail_cf MC CF builds a .cf from a .mc with its m4 files.
lab_sendmail_unpack() {
  SM="$WORK/sm"
  mkdir -p "$SM" "$WORK/smpkg"
  ( cd "$WORK/smpkg" && apt-get download sendmail-bin sendmail-cf sendmail-base >/dev/null 2>&1 )
  for d in "$WORK"/smpkg/*.deb; do dpkg -x "$d" "$SM"; done
  CFDIR="$SM/usr/share/sendmail/cf"
  MAKEMAP="$SM/usr/libexec/sendmail/makemap"
  [ -x "$MAKEMAP" ] || MAKEMAP=$(find "$SM" -name makemap -type f | head -1)
  SMBIN="$SM/usr/libexec/sendmail/sendmail"
  [ -x "$SMBIN" ] || SMBIN=$(find "$SM" -path '*sbin*' -name 'sendmail*' -type f | head -1)
}
# The .mc lines both labs' Sendmail share: its queues, pid, aliases and TLS
# files under $WORK, LogLevel 14.
lab_sendmail_mc_common() {
  cat <<EOF
define(\`QUEUE_DIR', \`$WORK/smq')dnl
define(\`MSP_QUEUE_DIR', \`$WORK/smcq')dnl
define(\`confPID_FILE', \`$WORK/sendmail.pid')dnl
define(\`ALIAS_FILE', \`$WORK/sm/aliases')dnl
define(\`confLOG_LEVEL', \`14')dnl
define(\`confCACERT_PATH', \`$WORK/smtls')dnl
define(\`confCACERT', \`$WORK/smtls/cert.pem')dnl
define(\`confSERVER_CERT', \`$WORK/smtls/cert.pem')dnl
define(\`confSERVER_KEY', \`$WORK/smtls/key.pem')dnl
define(\`confCLIENT_CERT', \`$WORK/smtls/cert.pem')dnl
define(\`confCLIENT_KEY', \`$WORK/smtls/key.pem')dnl
define(\`confDONT_BLAME_SENDMAIL', \`GroupReadableKeyFile,GroupWritableDirPathSafe')dnl
EOF
}
lab_sendmail_cf() {
  # The Debian OSTYPE pulls in Debian's own helper files; use the generic one.
  sed -i "s/OSTYPE(\`debian')/OSTYPE(\`linux')/" "$1"
  m4 -D_CF_DIR_="$CFDIR/" "$CFDIR/m4/cf.m4" "$1" > "$2"
}
