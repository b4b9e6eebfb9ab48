#!/usr/bin/env bash
# external.sh - run the end-to-end tests the way a user runs them against
# their own API server: through KINF_E2E_KUBECONFIG, with no access to
# the simulator's controls. A simulated server started here plays the
# part of that cluster; the tests that need fault injection must skip.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/tests/sim/start.bash"
work=$(mktemp -d)
cleanup() {
  sim_stop
  rm -rf "$work"
}
trap cleanup EXIT

sim_start "$work/sim" --kubelet-delay 0.05 2>/dev/null
export KINF_E2E_KUBECONFIG=$SIM_KUBECONFIG
for test in "$@"; do
  "$test" >"$work/out" 2>&1 || { cat "$work/out"; exit 1; }
  # Against an outside server, fault-injection tests say they skipped.
  grep -q 'SKIP: needs the simulated server' "$work/out" ||
    { cat "$work/out"; echo "FAIL: $test skipped nothing"; exit 1; }
  grep -q 'PASSED' "$work/out" || { cat "$work/out"; exit 1; }
  tail -n 3 "$work/out"
done
