#!/bin/sh
# Install what tlswitness needs on Debian 12, only what is missing.
#   sh tests/setup-debian.sh          build dependencies
#   sh tests/setup-debian.sh --test   and what the test suite and the lab use
#   sh tests/setup-debian.sh --bench  and the peers make bench measures against
set -e
pkgs="gcc make libc6-dev pkg-config zlib1g-dev libyaml-dev libpcap-dev libssl-dev libmimalloc-dev"
if [ "${1:-}" = --test ]; then
  pkgs="$pkgs libcmocka-dev jq gzip tzdata clang libclang-rt-14-dev chromium valgrind postfix swaks libnet-ssleay-perl libio-socket-ssl-perl tcpdump rsyslog m4 openssl python3 \
        man-db iproute2 procps libwrap0 libldap-2.5-0 liblockfile1 libnsl2 libsasl2-2 libdb5.3"
fi
if [ "${1:-}" = --bench ]; then
  pkgs="$pkgs python3 time gzip pflogsumm tshark tcpdump valgrind"
fi
missing=""
for p in $pkgs; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
echo "setup: installing$missing" >&2
# Postfix asks questions on install; answer them: local only, no relaying.
echo "postfix postfix/main_mailer_type select Local only" | $SUDO debconf-set-selections
echo "postfix postfix/mailname string lab.tlswitness.test" | $SUDO debconf-set-selections
$SUDO apt-get update -q >/dev/null
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null
