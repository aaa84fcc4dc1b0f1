#!/bin/sh
# bounds.sh - the limits a report keeps to (README "Output", ARCHITECTURE.md
# "Bounds"), on inputs made bigger than them from the lab's logs
# (bench/scale_log.py): what is past a limit is counted and said, never
# silently lost.  Memory itself is measured by bench/memory.sh, not here.
TW=${1:-./tlswitness}
what=bounds
. tests/checks.sh
# 400 copies of the lab's log: over 1,000 paths, 20,000 evidence lines
python3 bench/scale_log.py samples/lab/postfix-a.log 400 > "$d/a.log"
paths=$("$TW" -q --tz UTC --year 2026 --format paths "$d/a.log" | grep -c '"kind":"path"')
[ "$paths" -gt 1000 ] && big=yes || big=no
check "the input holds more than 1,000 paths ($paths)" yes "$big"
"$TW" -q --tz UTC --year 2026 --format story "$d/a.log" > "$d/story.txt" 2> "$d/story.err"
check "story: exit 0 past its limit" 0 $?
told=$(grep -c '^Message ' "$d/story.txt")
lines=$(grep -c '^      [^ ]*:[0-9][0-9]*  ' "$d/story.txt")
# told until 1,000 paths or the first path begun past 20,000 lines
if [ "$told" = 1000 ] || { [ "$told" -lt 1000 ] && [ "$lines" -ge 20000 ]; }; then ok=yes; else ok=no; fi
check "story: 1,000 paths at most, none begun past 20,000 lines ($told told, $lines lines)" yes "$ok"
check "story: the rest counted at its end" "($((paths - told)) more paths not told" \
  "$(grep -o '^([0-9]* more paths not told' "$d/story.txt")"
check "story: the rest counted on standard error" \
  "tlswitness: story: $((paths - told)) paths not told (1000 at most, 20000 evidence lines)" \
  "$(cat "$d/story.err")"
# the paths told are the input's first ones, whole: the first story is the
# same as on its first copy alone
python3 bench/scale_log.py samples/lab/postfix-a.log 1 > "$d/one.log"
"$TW" -q --tz UTC --year 2026 --format story "$d/one.log" > "$d/one.txt"
first_big=$(awk '/^Message /{n++} n==1' "$d/story.txt" | head -40 | sed 's|^      [^ ]*:|      F:|')
first_one=$(awk '/^Message /{n++} n==1' "$d/one.txt" | head -40 | sed 's|^      [^ ]*:|      F:|')
check "story: the first path told as on its first copy alone" "$first_one" "$first_big"
checks_end
