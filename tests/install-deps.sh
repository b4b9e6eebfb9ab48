#!/usr/bin/env bash
# install-deps.sh - install, with apt-get, whatever the build, the tests
# and the demo need and this Debian machine lacks. Safe to run again.
set -euo pipefail

packages=(
  gcc libc6-dev pkg-config meson ninja-build
  libcurl4-openssl-dev libjansson-dev libyaml-dev libssl-dev
  libcmocka-dev python3 openssl valgrind curl
)

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
      grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
# kubectl may come from elsewhere; Debian's kubernetes-client has one.
want_kubectl=0
if ! command -v kubectl >/dev/null 2>&1; then
  want_kubectl=1
fi

if [ ${#missing[@]} -eq 0 ] && [ $want_kubectl -eq 0 ]; then
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi
# Without kubectl the demo falls back to curl and the kubectl test skips.
if [ $want_kubectl -eq 1 ]; then
  echo "install-deps: installing kubernetes-client (kubectl)" >&2
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    kubernetes-client >/dev/null ||
    echo "install-deps: no kubectl package; continuing without it" >&2
fi
