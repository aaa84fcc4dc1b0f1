#!/bin/sh
# Peak resident memory of every output format at 1x and 10x the input
# (issue "Safe to run as root": memory grows with open sessions, never with
# file size, for every format).  Three inputs, each at two sizes ten times
# apart: the lab's logs scaled (bench/scale_log.py: the same traffic,
# repeated), and a log of distinct recipient domains and relays, one
# message a second (every name new: the tables' bounds), and a Dovecot log
# of a new user at every login (--format users' table).  Prints, a format
# a line, the peak RSS at each size and the ratio.
#   sh bench/memory.sh [COPIES]    the 1x size in lab copies (default 200)
set -e
cd "$(dirname "$0")/.."
D=${BENCH_DIR:-build/bench}
N=${1:-200}
mkdir -p "$D"
make -s tlswitness
for k in $N $((N * 10)); do
  [ -s "$D/mem-$k.a.log" ] || python3 bench/scale_log.py samples/lab/postfix-a.log "$k" > "$D/mem-$k.a.log"
  [ -s "$D/mem-$k.s.log" ] || python3 bench/scale_log.py samples/lab/syslog-mail.log "$k" > "$D/mem-$k.s.log"
  [ -s "$D/names-$k.log" ] || python3 - "$((k * 150))" > "$D/names-$k.log" <<'PY'
import sys
for i in range(int(sys.argv[1])):
    q = "%010X" % (0x1000000 + i)
    t = "Nov %02d %02d:%02d:%02d" % (1 + i // 86400, i // 3600 % 24, i // 60 % 60, i % 60)
    r = "mx.d%d.example[10.%d.%d.%d]:25" % (i, i >> 16 & 255, i >> 8 & 255, i & 255)
    print("%s mx postfix/pickup[7]: %s: uid=0 from=<root>" % (t, q))
    print("%s mx postfix/qmgr[9]: %s: from=<a@x>, size=1, nrcpt=1 (queue active)" % (t, q))
    print("%s mx postfix/smtp[10]: Trusted TLS connection established to %s: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)" % (t, r))
    print("%s mx postfix/smtp[10]: %s: to=<b@d%d.example>, relay=%s, delay=1, delays=0/0/0/0, dsn=2.0.0, status=sent (250 ok)" % (t, q, i, r))
    print("%s mx postfix/qmgr[9]: %s: removed" % (t, q))
PY
  # logins: a Dovecot login line a user, every user new (--format users)
  [ -s "$D/logins-$k.log" ] || python3 - "$((k * 150))" > "$D/logins-$k.log" <<'PY'
import sys
for i in range(int(sys.argv[1])):
    t = "Dec %02d %02d:%02d:%02d" % (1 + i // 86400, i // 3600 % 24, i // 60 % 60, i % 60)
    print("%s mx dovecot: imap-login: Login: user=<u%d>, method=PLAIN, rip=10.%d.%d.%d, "
          "lip=127.0.0.1, mpid=%d, %s, session=<s%dAAAB>"
          % (t, i, i >> 16 & 255, i >> 8 & 255, i & 255, 1000 + i % 30000,
             "TLS" if i % 3 else "secured", i))
PY
done
peak() { /usr/bin/time -f "%M" -o "$D/mem.time" ./tlswitness -q --tz UTC --year 2026 "$@" > /dev/null 2>&1 || true; cat "$D/mem.time"; }
for input in lab names logins; do
  case $input in
  lab) small="$D/mem-$N.a.log $D/mem-$N.s.log"; big="$D/mem-$((N * 10)).a.log $D/mem-$((N * 10)).s.log"
       formats="text json csv html tlsrpt domains events paths story map users" ;;
  names) small="$D/names-$N.log"; big="$D/names-$((N * 10)).log"
       formats="text json csv html tlsrpt domains events paths story map users" ;;
  logins) small="$D/logins-$N.log"; big="$D/logins-$((N * 10)).log"
       formats="text json events users" ;;
  esac
  echo "$input: $(cat $small | wc -c) and $(cat $big | wc -c) bytes"
  for f in $formats; do
    if [ $f = map ]; then o="--policy-map postfix"; else o="--format $f"; fi
    # shellcheck disable=SC2086
    a=$(peak $o $small); b=$(peak $o $big)
    printf '  %-8s %8s KiB %8s KiB  %5s\n' "$f" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2fx", b / a }')"
  done
done
