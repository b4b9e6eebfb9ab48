#!/usr/bin/env bash
# kubectl (a client-go program) against kubesim: discovery, apply, watch,
# delete (which waits through a fieldSelector watch), NotFound, with the
# token and the client-certificate kubeconfigs.
# Exit 0 on success, 1 on failure, 77 (meson's skip) without kubectl.
set -u

if ! command -v kubectl >/dev/null 2>&1; then
    echo "SKIP: kubectl not installed"
    exit 77
fi

here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-python3}
work=$(mktemp -d "${TMPDIR:-/tmp}/kubesim-kubectl.XXXXXX")
server_pid=
passed=0
failed=0

cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# check NAME COMMAND...: run one step, count it, show its output on failure.
check() {
    local name=$1
    shift
    if "$@" >"$work/out" 2>&1; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL $name" >&2
        sed 's/^/    /' "$work/out" >&2
    fi
}

kc() {
    timeout 30 kubectl "$@"
}

# Start the server; its one stdout line says where it listens (30 s:
# a loaded machine can be slow to start Python and make the certificates).
"$python" "$here/kubesim.py" --dir "$work/sim" --kubelet-delay 0.2 \
    >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
for _ in $(seq 1 300); do
    [ -s "$work/server.out" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
if ! grep -q '^kubesim listening on https://' "$work/server.out"; then
    echo "FAIL: kubesim did not start" >&2
    cat "$work/server.err" >&2
    exit 1
fi

cat >"$work/pod.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: nginx
  namespace: default
  labels:
    app: nginx
spec:
  containers:
  - name: nginx
    image: nginx:1.27
    ports:
    - containerPort: 80
EOF

lists_system_namespaces() {
    kc "$@" get namespaces | grep -q '^kube-system '
}

pod_is_not_found() {
    local out
    if out=$(kc "$@" get pod nginx 2>&1); then
        echo "still there: $out"
        return 1
    fi
    echo "$out"
    echo "$out" | grep -q NotFound
}

# watch_shows_pod PID: the get -w running as PID prints the pod within
# 30 s (a cold kubectl on a loaded machine is slow); then stop it.
watch_shows_pod() {
    local pid=$1 found=1
    for _ in $(seq 1 300); do
        if grep -q '^nginx ' "$work/watch.out"; then
            found=0
            break
        fi
        sleep 0.1
    done
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    cat "$work/watch.out"
    return $found
}

# lifecycle LABEL KUBECTL-ARGS...: the whole pod story with one kubeconfig.
lifecycle() {
    local label=$1
    shift
    check "$label: get pods -A" kc "$@" get pods -A
    check "$label: get namespaces" lists_system_namespaces "$@"
    # The timeout only bounds a stuck watch; watch_shows_pod ends it.
    timeout 60 kubectl "$@" get pods -w >"$work/watch.out" 2>&1 &
    local watch_pid=$!
    sleep 1
    check "$label: apply" kc "$@" apply --validate=false -f "$work/pod.yaml"
    check "$label: pod exists" kc "$@" get pod nginx
    check "$label: get -w shows the pod" watch_shows_pod "$watch_pid"
    check "$label: delete waits for removal" \
        kc "$@" delete -f "$work/pod.yaml"
    check "$label: get after delete is NotFound" pod_is_not_found "$@"
}

bad_token_is_refused() {
    ! kc --kubeconfig "$work/sim/kubeconfig" --token wrong get pods \
        >"$work/bad" 2>&1 && grep -q Unauthorized "$work/bad"
}

lifecycle token --kubeconfig "$work/sim/kubeconfig"
lifecycle client-cert --kubeconfig "$work/sim/kubeconfig-cert"
# kubeconfig-http is not tried: client-go does not send bearer tokens to
# plain http:// servers, so kubectl would be anonymous (403) there.
check "bad token is refused" bad_token_is_refused

echo "test_kubectl: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
