#!/usr/bin/env bash
# Build a newer Postfix (3.10+; 3.12 snapshots were used) from its upstream
# source for the lab, with TLSRPT support through sys4's libtlsrpt, into
# one prefix that leaves the machine's Debian Postfix alone.  Debian 12's
# Postfix is 3.7: it writes no per-delivery "tls=" status and no
# "TLSRPT:" lines, so tests/lab/postfix-new.sh needs this build.
#
#   tests/lab/build-postfix.sh POSTFIX_SRC LIBTLSRPT_SRC [PREFIX]
#
# POSTFIX_SRC: a checkout whose postfix/ (or itself) holds Makefile.init
# (github vdukhovni/postfix); LIBTLSRPT_SRC: github sys4/libtlsrpt.
# PREFIX defaults to /opt/pf312: binaries, configuration and queue all
# below it (compiled-in defaults, postfix-install -non-interactive).
set -euo pipefail
PF=${1:?usage: build-postfix.sh POSTFIX_SRC LIBTLSRPT_SRC [PREFIX]}
RPT=${2:?usage: build-postfix.sh POSTFIX_SRC LIBTLSRPT_SRC [PREFIX]}
P=${3:-/opt/pf312}
[ -f "$PF/postfix/Makefile.init" ] && PF=$PF/postfix
apt-get install -y -q autoconf automake libtool libdb5.3-dev libssl-dev m4 >/dev/null

B=$(mktemp -d /var/tmp/tlswitness-build.XXXXXX)
trap 'rm -rf "$B"' EXIT
cp -a "$RPT" "$B/libtlsrpt" && cp -a "$PF" "$B/postfix"
# The library's manual pages need asciidoctor; the lab needs only the library.
sed -i 's/^SUBDIRS = man/SUBDIRS =/' "$B/libtlsrpt/Makefile.am"
(cd "$B/libtlsrpt" && autoreconf -fi && ./configure -q --prefix="$P/tlsrpt" &&
  make -j2 && make install) >/dev/null
cd "$B/postfix"
make -f Makefile.init makefiles \
  "CCARGS=-DUSE_TLS -DUSE_TLSRPT -I$P/tlsrpt/include -DNO_NIS" \
  "AUXLIBS=-lssl -lcrypto -L$P/tlsrpt/lib -Wl,-rpath,$P/tlsrpt/lib -ltlsrpt" \
  config_directory="$P/etc" command_directory="$P/sbin" daemon_directory="$P/libexec" \
  data_directory="$P/lib" queue_directory="$P/spool" meta_directory="$P/etc" \
  sendmail_path="$P/sbin/sendmail" newaliases_path="$P/bin/newaliases" \
  mailq_path="$P/bin/mailq" manpage_directory="$P/man" \
  readme_directory=no html_directory=no >/dev/null
make -j2 >/dev/null
sh postfix-install -non-interactive >/dev/null
"$P/sbin/postconf" -h mail_version
