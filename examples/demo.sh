#!/usr/bin/env bash
# demo.sh - run pod-controller against the simulated cluster, then apply
# and delete an nginx pod so that its whole life shows in the log:
# AddFunc, several UpdateFunc (scheduled, creating, running, terminating)
# and DeleteFunc for default/nginx.
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

step "starting pod-controller (all namespaces)"
"$bin" --kubeconfig "$kubeconfig" -v "$verbosity" &
controller_pid=$!
sleep 1.5

# kubectl when installed; otherwise the same requests with curl.
pods_url() {
  local server token
  server=$(awk '/server:/ {print $2; exit}' "$kubeconfig")
  token=$(awk '/token:/ {print $2; exit}' "$kubeconfig" | tr -d '"')
  curl_args=(--silent --show-error --fail --cacert "$work/sim/ca.crt"
             -H "Authorization: Bearer $token"
             -H "Content-Type: application/json")
  echo "$server/api/v1/namespaces/default/pods"
}
apply_pod() {
  if command -v kubectl >/dev/null 2>&1; then
    kubectl --kubeconfig "$kubeconfig" apply --validate=false \
      -f "$root/examples/pod.yaml" >&2
  else
    local url
    url=$(pods_url)
    curl "${curl_args[@]}" -X POST "$url" -o /dev/null -d '{
      "apiVersion": "v1", "kind": "Pod",
      "metadata": {"name": "nginx", "labels": {"app": "nginx"}},
      "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27",
                               "ports": [{"containerPort": 80}]}]}}'
    echo "pod/nginx created" >&2
  fi
}
delete_pod() {
  if command -v kubectl >/dev/null 2>&1; then
    kubectl --kubeconfig "$kubeconfig" delete -f "$root/examples/pod.yaml" >&2
  else
    local url
    url=$(pods_url)
    curl "${curl_args[@]}" -X DELETE "$url/nginx" -o /dev/null
    echo "pod \"nginx\" deleted" >&2
  fi
}

step "applying examples/pod.yaml: the simulated kubelet schedules and runs it"
apply_pod
sleep 3

step "deleting it: the kubelet terminates the containers, then it is gone"
delete_pod
sleep 1.5

step "stopping pod-controller with SIGTERM"
kill -TERM "$controller_pid"
status=0
wait "$controller_pid" || status=$?
controller_pid=
exit "$status"
