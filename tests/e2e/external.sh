#!/usr/bin/env bash
# external.sh - run the end-to-end tests the way a user runs them against
# their own API server: through KINF_E2E_KUBECONFIG, with no access to
# the simulator's controls. A simulated server started here plays the
# part of that cluster; the tests that need fault injection must skip.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
sim_pid=
cleanup() {
  [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

python3 "$root/tests/sim/kubesim.py" --dir "$work/sim" \
  --kubelet-delay 0.05 >"$work/sim.out" &
sim_pid=$!
for _ in $(seq 100); do
  grep -q listening "$work/sim.out" 2>/dev/null && break
  sleep 0.1
done

export KINF_E2E_KUBECONFIG="$work/sim/kubeconfig"
for test in "$@"; do
  "$test" >"$work/out" 2>&1 || { cat "$work/out"; exit 1; }
  # Against an outside server, fault-injection tests say they skipped.
  grep -q 'SKIP: needs the simulated server' "$work/out" ||
    { cat "$work/out"; echo "FAIL: $test skipped nothing"; exit 1; }
  grep -q 'PASSED' "$work/out" || { cat "$work/out"; exit 1; }
  tail -n 3 "$work/out"
done
