#!/bin/sh
# Peak resident memory under floods that must stay bounded (issue
# "Hostile input"): a capture of a million half-open connections and a log
# of a million smtpd sessions that never disconnect, spread over 17
# minutes and all within one second, open messages with 60 KiB
# Message-IDs, a queue ID retried 200,000 times, 500,000 distinct domains.  Needs python3 and GNU
# time.  Prints one line each.
set -e
cd "$(dirname "$0")/.."
d=${TMPDIR:-/tmp}/tlswitness-limits.$$
mkdir -p "$d"
trap 'rm -rf "$d"' EXIT
make -s tlswitness
python3 - "$d/syn-flood.pcap" <<'PY'
import struct, sys
out = open(sys.argv[1], 'wb')
out.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
eth = b'\x00\x01\x02\x03\x04\x05\x00\x01\x02\x03\x04\x06\x08\x00'
for i in range(1000000):
    src = bytes([10, (i >> 16) & 255, (i >> 8) & 255, i & 255])
    ip = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 40, 0, 0, 64, 6, 0, src, bytes([192, 0, 2, 25]))
    tcp = struct.pack('>HHIIBBHHH', 1024 + i % 60000, 25, i, 0, 0x50, 0x02, 65535, 0, 0)
    pkt = eth + ip + tcp
    out.write(struct.pack('<IIII', 1700000000 + i // 1000, (i % 1000) * 1000, len(pkt), len(pkt)) + pkt)
PY
awk 'BEGIN { for (i = 0; i < 1000000; i++) printf "Nov 28 10:%02d:%02d mx postfix/smtpd[%d]: connect from h%d.example[10.%d.%d.%d]\n", int(i/60000)%60, int(i/1000)%60, i+1000, i, int(i/65536)%256, int(i/256)%256, i%256 }' > "$d/sessions.log"
awk 'BEGIN { for (i = 0; i < 1000000; i++) printf "Nov 28 10:00:00 mx postfix/smtpd[%d]: connect from h%d.example[10.%d.%d.%d]\n", i+1000, i, int(i/65536)%256, int(i/256)%256, i%256 }' > "$d/one-second.log"
# 2,000 open messages whose Message-IDs are 60 KiB each (a log line's
# limit is 64 KiB): each keeps 998 bytes of it
python3 -c 'import sys
m = "m" * 61440
for i in range(2000):
    sys.stdout.write("Nov 28 10:%02d:%02d mx postfix/cleanup[8]: %010X: message-id=<%s%d@x>\n" % (i // 60 % 60, i % 60, 16777216 + i, m, i))' > "$d/long-ids.log"
# one queue ID retried 200,000 times with the same outcome (folded)
python3 -c 'import sys
print("Nov 28 10:00:00 mx postfix/qmgr[9]: 9BB0A114197: from=<a@x>, size=1, nrcpt=1 (queue active)")
for i in range(200000):
    sys.stdout.write("Nov %02d %02d:%02d:%02d mx postfix/smtp[%d]: 9BB0A114197: to=<b@down.example>, relay=mx.down.example[198.51.100.7]:25, delay=%d, delays=0/0/0/0, dsn=4.4.2, status=deferred (connection timed out)\n" % (28 + i // 86400, i // 3600 % 24, i // 60 % 60, i % 60, 100 + i % 5, i))' > "$d/retries.log"
# 500,000 distinct recipient domains and relays (the name tables' bounds),
# judged into the domain table
python3 -c 'import sys
for i in range(500000):
    q = "%010X" % (0x1000000 + i)
    t = "Nov %02d %02d:%02d:%02d" % (1 + i // 86400, i // 3600 % 24, i // 60 % 60, i % 60)
    r = "mx.d%d.example[10.%d.%d.%d]:25" % (i, i >> 16 & 255, i >> 8 & 255, i & 255)
    sys.stdout.write("%s mx postfix/qmgr[9]: %s: from=<a@x>, size=1, nrcpt=1 (queue active)\n%s mx postfix/smtp[10]: %s: to=<b@d%d.example>, relay=%s, delay=1, delays=0/0/0/0, dsn=2.0.0, status=sent (250 ok)\n%s mx postfix/qmgr[9]: %s: removed\n" % (t, q, t, q, i, r, t, q))' > "$d/names.log"
for f in syn-flood.pcap sessions.log one-second.log long-ids.log retries.log names.log; do
  fmt=json
  [ "$f" = names.log ] && fmt=domains
  /usr/bin/time -f "%M %e" -o "$d/t" ./tlswitness -q --format $fmt --tz UTC --year 2026 "$d/$f" > /dev/null
  set -- $(cat "$d/t")
  printf '%-16s %6s MB  peak RSS %6s KiB  %5ss  (%s)\n' "$f" "$(( $(wc -c < "$d/$f") / 1048576 ))" "$1" "$2" "$fmt"
done
