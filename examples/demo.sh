#!/usr/bin/env bash
# demo.sh - run pod-controller against the simulated cluster, then apply
# and delete an nginx pod so that its whole life shows in the log:
# AddFunc, several UpdateFunc (scheduled, creating, running, terminating)
# and DeleteFunc for default/nginx. Then a pod deleted while the
# informer is cut off: it learns of it by listing again (a tombstone).
#
#   examples/demo.sh          set up, build, run (klog -v 0)
#   V=4 examples/demo.sh      also show the reflector's decisions
#   V=6 examples/demo.sh      also show every request and event
#
# KINF_DEMO_BIN=path/to/pod-controller skips set-up and build (tests).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
verbosity=${V:-0}
bin=${KINF_DEMO_BIN:-}

if [ -z "$bin" ]; then
  "$root/tests/install-deps.sh"
  if [ ! -f "$root/build/build.ninja" ]; then
    meson setup "$root/build" "$root" >/dev/null
  fi
  ninja -C "$root/build" examples/pod-controller >/dev/null
  bin="$root/build/examples/pod-controller"
fi

source "$root/tests/sim/start.bash"
work=$(mktemp -d)
controller_pid=
cleanup() {
  [ -n "$controller_pid" ] && kill "$controller_pid" 2>/dev/null || true
  sim_stop
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n=== %s\n' "$*" >&2; }

step "starting the simulated API server"
sim_start "$work/sim" --kubelet-delay 0.5
kubeconfig=$SIM_KUBECONFIG

# The controller's log goes to the terminal and to a file, so that each
# step can wait for what the previous one caused instead of guessing.
log="$work/controller.log"
: >"$log"
wait_for_log() {   # PATTERN [COUNT]: lines the controller logs; 30 s at most
  local i want=${2:-1}
  for ((i = 0; i < 300; i++)); do
    [ "$(grep -c -- "$1" "$log")" -ge "$want" ] && return 0
    sleep 0.1
  done
  echo "demo: pod-controller never logged '$1' $want time(s)" >&2
  return 1
}

step "starting pod-controller (all namespaces)"
"$bin" --kubeconfig "$kubeconfig" -v "$verbosity" 2> >(tee -a "$log" >&2) &
controller_pid=$!
wait_for_log 'caches synced'

# kubectl when installed; otherwise the same requests with curl.
pods_url() {
  local server token
  server=$(awk '/server:/ {print $2; exit}' "$kubeconfig" | tr -d '"')
  token=$(awk '/token:/ {print $2; exit}' "$kubeconfig" | tr -d '"')
  curl_args=(--silent --show-error --fail --cacert "$work/sim/ca.crt"
             -H "Authorization: Bearer $token"
             -H "Content-Type: application/json")
  echo "$server/api/v1/namespaces/default/pods"
}
apply_pod() {   # NAME: examples/pod.yaml under that name
  local name=$1 url
  if command -v kubectl >/dev/null 2>&1; then
    sed "0,/name: nginx/s//name: $name/" "$root/examples/pod.yaml" |
      kubectl --kubeconfig "$kubeconfig" apply --validate=false -f - >&2
  else
    url=$(pods_url)
    curl "${curl_args[@]}" -X POST "$url" -o /dev/null -d '{
      "apiVersion": "v1", "kind": "Pod",
      "metadata": {"name": "'"$name"'", "labels": {"app": "nginx"}},
      "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27",
                               "ports": [{"containerPort": 80}]}]}}'
    echo "pod/$name created" >&2
  fi
}
delete_pod() {   # NAME [now]: now skips the grace period and the wait
  local name=$1 url
  if command -v kubectl >/dev/null 2>&1; then
    kubectl --kubeconfig "$kubeconfig" delete pod "$name" \
      ${2:+--grace-period=0 --force --wait=false} >&2 2>/dev/null
  else
    url=$(pods_url)
    curl "${curl_args[@]}" -X DELETE "$url/$name" -o /dev/null \
      ${2:+-d '{"gracePeriodSeconds":0}'}
    echo "pod \"$name\" deleted" >&2
  fi
}
sim_control() {
  curl --silent --show-error --fail -X POST "$SIM_HTTP/_sim/$1" -o /dev/null
}

step "applying examples/pod.yaml: the simulated kubelet schedules and runs it"
apply_pod nginx
# Scheduled, containers creating, running: one MODIFIED event each.
wait_for_log 'UpdateFunc default/nginx' 3

step "deleting it: the kubelet terminates the containers, then it is gone"
delete_pod nginx
wait_for_log 'DeleteFunc default/nginx'

step "a second pod, web; then the server drops the informer's watch and
    refuses it while web is deleted and the history is compacted: no
    DELETED event will ever reach the informer"
apply_pod web
wait_for_log 'AddFunc default/web'
sim_control disconnect
delete_pod web now
sim_control compact
wait_for_log ' 503 ServiceUnavailable: '

step "the server is back: the informer lists again, finds web gone and
    reports a delete whose final state is unknown (a tombstone)"
sim_control reconnect
# The informer's backoff runs out first: up to 1.6 s by now.
wait_for_log 'DeleteFunc default/web'

step "stopping pod-controller with SIGTERM"
kill -TERM "$controller_pid"
status=0
wait "$controller_pid" || status=$?
controller_pid=
exit "$status"
