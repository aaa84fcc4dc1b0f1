#!/bin/sh
# The threaded pipeline under ThreadSanitizer: every input kind and format
# (the threads-same-output case), then a scaled-up log, gzip log and
# capture so the queues fill, wrap and drain.  Any data race fails.
#   sh tests/tsan.sh BINARY
set -e
TW=$1
export TSAN_OPTIONS="halt_on_error=1 exitcode=66"
mkdir -p tests/out/tsan
TW=$TW sh tests/golden/threads-same-output/cmd > tests/out/tsan/same.out 2> tests/out/tsan/same.err
if grep -q DIFFERENT tests/out/tsan/same.out || grep -q ThreadSanitizer tests/out/tsan/same.err; then
  cat tests/out/tsan/same.out tests/out/tsan/same.err; exit 1
fi
python3 bench/scale_log.py samples/lab/postfix-a.log 300 > tests/out/tsan/big.log
gzip -c tests/out/tsan/big.log > tests/out/tsan/big.log.gz
python3 bench/scale_pcap.py samples/lab/lab.pcap 30 > tests/out/tsan/big.pcap
for f in big.log big.log.gz big.pcap "big.log big.pcap"; do
  set -- $f
  args=""
  for a; do args="$args tests/out/tsan/$a"; done
  $TW -q --format json --tz UTC --year 2026 $args > /dev/null 2> tests/out/tsan/err || {
    echo "tsan: $f: exit $?"; cat tests/out/tsan/err; exit 1; }
done
echo "tsan: no data race (35 format/input pairs, scaled log, gzip log, capture, joined)"
