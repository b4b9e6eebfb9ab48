#!/usr/bin/env bash
# test_demo.sh - the README's demo shows default/nginx being added,
# updated several times and deleted, in that order, then default/web
# deleted while the informer was cut off, as a tombstone; and it stops
# cleanly.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
export KINF_DEMO_BIN=${1:?usage: test_demo.sh path/to/pod-controller}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

status=0
"$root/examples/demo.sh" >"$log" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
  cat "$log"
  echo "FAIL: demo exited with $status"
  exit 1
fi

# Keep only the controller's klog lines about default/nginx, in order.
klog='^I[0-9]\{4\} [0-9:.]* *[0-9]* [^]]*\] '
funcs='\(AddFunc\|UpdateFunc\|DeleteFunc\)'
sequence=$(sed -n "s/${klog}${funcs} default\/nginx\$/\1/p" "$log" |
  tr '\n' ' ')
echo "sequence: $sequence"
if ! [[ "$sequence" =~ ^AddFunc\ (UpdateFunc\ ){2,}DeleteFunc\ $ ]]; then
  cat "$log"
  echo "FAIL: expected AddFunc, several UpdateFunc, then DeleteFunc"
  exit 1
fi
for line in 'starting pod controller' 'received signal 15' \
            'pod controller stopped: 2 adds' \
            '] DeleteFunc default/web (final state unknown)$' \
            '^W.* 503 ServiceUnavailable: .*, retrying$'; do
  if ! grep -q -- "$line" "$log"; then
    cat "$log"
    echo "FAIL: no '$line' in the demo output"
    exit 1
  fi
done
# SIGINT stops it as cleanly as SIGTERM: exit status 0.
source "$root/tests/sim/start.bash"
work=$(mktemp -d)
trap 'sim_stop; rm -rf "$work" "$log"' EXIT
sim_start "$work/sim" 2>/dev/null
"$KINF_DEMO_BIN" --kubeconfig "$SIM_KUBECONFIG" 2>"$work/out" &
pid=$!
# Signals are blocked before this line is logged; then one is sent.
for ((i = 0; i < 300; i++)); do
  grep -q 'caches synced' "$work/out" && break
  sleep 0.1
done
kill -INT "$pid"
status=0
wait "$pid" || status=$?
if [ "$status" -ne 0 ] || ! grep -q 'received signal 2' "$work/out"; then
  cat "$work/out"
  echo "FAIL: pod-controller exited with $status on SIGINT"
  exit 1
fi
# --namespace limits the controller to one namespace: a pod elsewhere is
# never heard of.
post() {   # PATH JSON: create an object on the simulated server
  local server token
  server=$(awk '/server:/ {print $2; exit}' "$SIM_KUBECONFIG" | tr -d '"')
  token=$(awk '/token:/ {print $2; exit}' "$SIM_KUBECONFIG" | tr -d '"')
  curl --silent --show-error --fail --cacert "$work/sim/ca.crt" \
    -H "Authorization: Bearer $token" -H "Content-Type: application/json" \
    -X POST "$server$1" -o /dev/null -d "$2"
}
pod_json() {
  echo '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "'"$1"'"},
         "spec": {"containers": [{"name": "c", "image": "pause"}]}}'
}
post /api/v1/namespaces '{"apiVersion": "v1", "kind": "Namespace",
                          "metadata": {"name": "other"}}'
post /api/v1/namespaces/default/pods "$(pod_json here)"
post /api/v1/namespaces/other/pods "$(pod_json elsewhere)"
"$KINF_DEMO_BIN" --kubeconfig "$SIM_KUBECONFIG" --namespace other \
  2>"$work/ns" &
pid=$!
for ((i = 0; i < 300; i++)); do
  grep -q 'AddFunc other/elsewhere$' "$work/ns" && break
  sleep 0.1
done
# A pod created after the start, in the namespace left out, is the last
# thing the controller could wrongly hear of before this one.
post /api/v1/namespaces/default/pods "$(pod_json late)"
post /api/v1/namespaces/other/pods "$(pod_json late)"
for ((i = 0; i < 300; i++)); do
  grep -q 'AddFunc other/late$' "$work/ns" && break
  sleep 0.1
done
kill -TERM "$pid"
wait "$pid" || true
if ! grep -q 'AddFunc other/elsewhere$' "$work/ns" ||
   ! grep -q 'AddFunc other/late$' "$work/ns" ||
   grep -q 'default/' "$work/ns"; then
  cat "$work/ns"
  echo "FAIL: pod-controller --namespace other heard of other namespaces"
  exit 1
fi
# Bad options are refused with a reason and exit status 2, before any
# request is made.
for args in "-v abc" "-v 4x" "-v 11" "stray" "--bogus"; do
  status=0
  # shellcheck disable=SC2086  # each entry is several words on purpose
  "$KINF_DEMO_BIN" $args >/dev/null 2>"$work/opt" || status=$?
  word=${args##* }
  if [ "$status" -ne 2 ] || ! grep -q -- "$word" "$work/opt"; then
    cat "$work/opt"
    echo "FAIL: pod-controller $args: status $status, no reason naming '$word'"
    exit 1
  fi
done
echo "PASS: demo output in order, clean stop on SIGTERM and SIGINT," \
  "--namespace honoured, bad options refused"
