#!/usr/bin/env bash
# check-install.sh - install kinformer into a scratch prefix, then:
#  - the exported symbols are exactly lib/libkinformer.sym;
#  - every public header compiles alone (C99 and C++, -pedantic -Werror);
#  - examples/watch-pods.c builds with `pkg-config --cflags --libs
#    kinformer` and, run against the simulated server, sees its pods.
set -euo pipefail

src=$(cd "${1:?usage: check-install.sh SOURCE_ROOT}" && pwd)
source "$src/tests/sim/start.bash"
work=$(mktemp -d)
cleanup() {
  sim_stop
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

prefix="$work/prefix"
meson setup "$work/build" "$src" --prefix "$prefix" --libdir lib \
  -Dtests=false -Dexamples=false -Db_sanitize=none >/dev/null
ninja -C "$work/build" install >/dev/null
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
export LD_LIBRARY_PATH="$prefix/lib"

# The ABI: exported symbols equal the committed list.
nm -D --defined-only "$prefix/lib/libkinformer.so" |
  awk '$2 == "T" { print $3 }' | sort >"$work/exports"
diff -u "$src/lib/libkinformer.sym" "$work/exports" ||
  fail "exported symbols differ from lib/libkinformer.sym"
ls -l "$prefix/lib/" | grep -q 'libkinformer.so.0 ->' ||
  fail "no libkinformer.so.0 soname link"

# jansson types are in the API, so pkg-config must pull jansson in.
pkg-config --print-requires kinformer | grep -q '^jansson' ||
  fail "jansson is not in Requires of kinformer.pc"

# Each installed header stands alone.
cflags=$(pkg-config --cflags kinformer)
for h in "$prefix"/include/kinformer.h "$prefix"/include/kinformer/*.h; do
  name=${h#"$prefix/include/"}
  echo "#include <$name>" >"$work/one.c"
  cc -std=c99 -Wall -Wextra -pedantic -Werror $cflags -c "$work/one.c" \
    -o "$work/one.o" || fail "$name does not compile alone as C99"
  if command -v c++ >/dev/null 2>&1; then
    c++ -x c++ -std=c++11 -Wall -Wextra -pedantic -Werror $cflags \
      -c "$work/one.c" -o "$work/one.o" ||
      fail "$name does not compile as C++"
  fi
done

# A program built the way a user builds one, and the README's example.
cc -std=c11 -Wall -Wextra -Werror "$src/examples/watch-pods.c" \
  $(pkg-config --cflags --libs kinformer) -o "$work/watch-pods"
sed -n '/^```c$/,/^```$/p' "$src/README.md" | sed '1d;$d' >"$work/readme.c"
[ -s "$work/readme.c" ] || fail "no C example in README.md"
cc -std=c11 -Wall -Wextra -Werror "$work/readme.c" \
  $(pkg-config --cflags --libs kinformer) -o "$work/readme" ||
  fail "the README's example does not build"

sim_start "$work/sim" --seed-pods 2 2>/dev/null
"$work/watch-pods" "$SIM_KUBECONFIG" 1 >"$work/out" 2>&1 ||
  { cat "$work/out"; fail "watch-pods failed"; }
grep -q '^synced: 2 pods$' "$work/out" || { cat "$work/out"; fail "no sync"; }
grep -q '^add default/pod-0 (initial)$' "$work/out" ||
  { cat "$work/out"; fail "no initial add"; }
echo "PASS: installed library, headers, exports and pkg-config"
