# start.bash - sourced by scripts that need a simulated API server.
#   sim_start DIR [kubesim options...]  start it in the background and
#                                       wait until it listens; sets
#                                       SIM_PID, SIM_KUBECONFIG and
#                                       SIM_HTTP (plain-HTTP base URL,
#                                       for the /_sim/ controls)
#   sim_stop                            stop it (safe to call twice)

SIM_SCRIPT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/kubesim.py"
SIM_PID=
SIM_KUBECONFIG=
SIM_HTTP=

sim_start() {
  local dir=$1
  shift
  mkdir -p "$dir"
  python3 "$SIM_SCRIPT" --dir "$dir" "$@" >"$dir.out" &
  SIM_PID=$!
  for _ in $(seq 300); do
    if grep -q listening "$dir.out" 2>/dev/null; then
      SIM_KUBECONFIG="$dir/kubeconfig"
      SIM_HTTP=$(grep -o '(http://[^)]*)' "$dir.out" | tr -d '()')
      cat "$dir.out" >&2
      return 0
    fi
    kill -0 "$SIM_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "sim_start: the simulated API server did not start" >&2
  return 1
}

sim_stop() {
  if [ -n "$SIM_PID" ]; then
    kill "$SIM_PID" 2>/dev/null || true
    wait "$SIM_PID" 2>/dev/null || true
    SIM_PID=
  fi
}
