#!/bin/sh
# Install what tlswitness needs on Debian 12, only what is missing.
#   sh tests/setup-debian.sh          build dependencies
#   sh tests/setup-debian.sh --test   and what the test suite and the lab use
#   sh tests/setup-debian.sh --bench  and the peers make bench measures against
set -e
pkgs="gcc make libc6-dev pkg-config zlib1g-dev libyaml-dev libpcap-dev libssl-dev libmimalloc-dev libsystemd-dev libpq-dev"
if [ "${1:-}" = --test ]; then
  pkgs="$pkgs libcmocka-dev jq gzip tzdata clang libclang-rt-14-dev chromium poppler-utils valgrind postfix swaks libnet-ssleay-perl libio-socket-ssl-perl tcpdump rsyslog m4 openssl python3 \
        man-db iproute2 procps libwrap0 libldap-2.5-0 liblockfile1 libnsl2 libsasl2-2 libdb5.3 \
        locales dovecot-core dovecot-lmtpd dovecot-imapd dovecot-pop3d python3-jsonschema systemd-journal-remote \
        sasl2-bin libsasl2-modules libsasl2-modules-db postgresql"
fi
if [ "${1:-}" = --bench ]; then
  pkgs="$pkgs python3 time gzip isal pflogsumm tshark tcpdump valgrind postgresql"
fi
missing=""
for p in $pkgs; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
# The month names of ten locales, as journalctl and syslog daemons write
# them (golden stamps-locales makes its lines with the real date(1)).
locales_needed() {
  for l in de_DE fr_FR es_ES it_IT nl_NL pt_PT ru_RU pl_PL sv_SE en_US; do
    locale -a 2>/dev/null | grep -qi "^$l\.utf-\?8$" || return 0
  done
  return 1
}
make_locales() {
  for l in de_DE fr_FR es_ES it_IT nl_NL pt_PT ru_RU pl_PL sv_SE en_US; do
    grep -q "^$l.UTF-8 UTF-8" /etc/locale.gen 2>/dev/null ||
      echo "$l.UTF-8 UTF-8" | $SUDO tee -a /etc/locale.gen >/dev/null
  done
  $SUDO locale-gen >/dev/null
}
if [ -z "$missing" ]; then
  if [ "${1:-}" = --test ] && locales_needed; then make_locales; fi
  exit 0
fi
echo "setup: installing$missing" >&2
# Postfix asks questions on install; answer them: local only, no relaying.
echo "postfix postfix/main_mailer_type select Local only" | $SUDO debconf-set-selections
echo "postfix postfix/mailname string lab.tlswitness.test" | $SUDO debconf-set-selections
$SUDO apt-get update -q >/dev/null
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null
if [ "${1:-}" = --test ] && locales_needed; then make_locales; fi
