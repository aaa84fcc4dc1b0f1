# common.sh - what the lab scripts (lab.sh, topology.sh) share; sourced.
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
