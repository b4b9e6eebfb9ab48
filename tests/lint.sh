#!/usr/bin/env bash
# lint.sh - house rules a compiler does not check: the library never
# prints (only the klog sink, which a host opts into, writes to stderr),
# no line passes 100 columns, and no unresolved marks are left behind.
set -uo pipefail

root=$(cd "${1:?usage: lint.sh SOURCE_ROOT}" && pwd)
cd "$root"
bad=0

prints=$(grep -nE '\b(printf|fprintf|puts|fputs|perror)\(' lib/*.c |
  grep -v '^lib/log.c:.*fprintf(stderr' || true)
if [ -n "$prints" ]; then
  echo "lib/ writes to stdout or stderr itself:"
  echo "$prints"
  bad=1
fi

wide=$(git ls-files '*.c' '*.h' '*.py' '*.build' '*.sh' | while read -r f; do
  awk -v f="$f" 'length($0) > 100 { printf "%s:%d: %d columns\n", f, NR,
    length($0) }' "$f"
done)
if [ -n "$wide" ]; then
  echo "lines over 100 columns:"
  echo "$wide"
  bad=1
fi

marks=$(git grep -nE '\b(TODO|FIXME|XXX|HACK)\b' -- lib include examples \
  tests ':!tests/lint.sh' || true)
if [ -n "$marks" ]; then
  echo "unresolved marks:"
  echo "$marks"
  bad=1
fi

[ "$bad" -eq 0 ] && echo "PASS: lint"
exit "$bad"
