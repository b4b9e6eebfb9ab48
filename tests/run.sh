#!/usr/bin/env bash
# run.sh - the whole test suite, as CI runs it: installs what is missing,
# then builds and runs every test in three builds (plain; AddressSanitizer
# + UndefinedBehaviorSanitizer; ThreadSanitizer) and the unit tests under
# valgrind. Prints "N skipped", then ends with the line "N passed, N failed".
#
#   tests/run.sh                 everything
#   KINF_RUN=plain tests/run.sh  only some of: plain asan tsan valgrind
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
runs=${KINF_RUN:-plain asan tsan valgrind}
out=${KINF_RUN_DIR:-$root/build-tests}
passed=0
failed=0
skipped=0

"$root/tests/install-deps.sh" || { echo "0 passed, 1 failed"; exit 1; }

# Add one meson test run's results (its JSON log) to the totals.
count() {
  local log=$1 p f
  read -r p f s < <(python3 - "$log" <<'PY'
import json, sys
ok = bad = skip = 0
with open(sys.argv[1]) as log:
    for line in log:
        result = json.loads(line)["result"]
        if result in ("OK", "EXPECTEDFAIL"):
            ok += 1
        elif result == "SKIP":
            skip += 1
        else:
            bad += 1
print(ok, bad, skip)
PY
  )
  passed=$((passed + p))
  failed=$((failed + f))
  skipped=$((skipped + s))
}

# run NAME MESON_SETUP_ARGS... -- MESON_TEST_ARGS...
run() {
  local name=$1 dir="$out/$1" setup=() test=()
  shift
  while [ $# -gt 0 ] && [ "$1" != -- ]; do setup+=("$1"); shift; done
  shift
  test=("$@")
  echo "=== $name"
  if ! { [ -f "$dir/build.ninja" ] ||
         meson setup "$dir" "$root" "${setup[@]}" >"$out/$name.setup.log"; } ||
     ! ninja -C "$dir" >"$out/$name.build.log" 2>&1; then
    cat "$out/$name.setup.log" "$out/$name.build.log" 2>/dev/null | tail -40
    echo "$name: build failed"
    failed=$((failed + 1))
    return
  fi
  # The log is testlog.json, or testlog-WRAPPER.json under --wrap.
  rm -f "$dir"/meson-logs/testlog*.json
  meson test -C "$dir" --print-errorlogs "${test[@]}"
  local log
  log=$(ls "$dir"/meson-logs/testlog*.json 2>/dev/null | head -n 1)
  if [ -n "$log" ]; then
    count "$log"
  else
    failed=$((failed + 1))
  fi
}

valgrind="valgrind --quiet --error-exitcode=99 --leak-check=full"
valgrind+=" --show-leak-kinds=definite --errors-for-leak-kinds=definite"

# KINF_TEST_TIME_SCALE stretches the tests' waits for things that will
# happen, and the bound on how long a stop may take, in the builds that
# run slowly.
mkdir -p "$out"
for r in $runs; do
  case $r in
  plain)
    run plain -- ;;
  asan)
    # Sanitizer builds skip the install check: it builds its own copy.
    KINF_TEST_TIME_SCALE=3 \
    run asan -Db_sanitize=address,undefined -Db_lundef=false -- \
      --no-suite install --timeout-multiplier 3 ;;
  tsan)
    TSAN_OPTIONS=halt_on_error=1 KINF_TEST_TIME_SCALE=3 \
    run tsan -Db_sanitize=thread -Db_lundef=false -- \
      --no-suite install --no-suite sim --timeout-multiplier 3 ;;
  valgrind)
    KINF_TEST_TIME_SCALE=10 \
    run valgrind -Dbuildtype=debug -- decode list store fifo backoff \
      reflector config log informer client --timeout-multiplier 10 --wrap "$valgrind" ;;
  *)
    echo "unknown run '$r'"; failed=$((failed + 1)) ;;
  esac
done

echo "$skipped skipped"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
