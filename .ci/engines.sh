# Sourced by .ci/run (and by a developer: `source .ci/engines.sh && engines_up`): a private Docker
# engine and a CNCF distribution registry on loopback, each with its own socket/port and data dir,
# stopped by PID with engines_down. Exports what tests/real_docker.py reads:
#   DOCKER_HOST                  the private engine's socket
#   TSCLOUD_TEST_REGISTRY        host:port of the registry (htpasswd user AWS, as ECR tokens use)
#   TSCLOUD_TEST_REGISTRY_PASSWORD  that user's password (moto's ECR token for account 123456789012)
#   TSCLOUD_TEST_BASE_IMAGE      a static busybox image made locally (no public registry is reachable)
# Nothing here talks to anything but loopback.

engines_install() {
  local missing=()
  command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
  _static_busybox >/dev/null || missing+=(busybox-static)  # a dynamic one would not run in a bare rootfs
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""; [ "$(id -u)" != 0 ] && sudo="sudo -n"
  { $sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"; } \
    >"${TMPDIR:-/tmp}/tscloud-ci-docker-apt.log" 2>&1
}

_engines_now() { date +%s.%N; }

_static_busybox() {
  local bb out
  for bb in /bin/busybox /usr/bin/busybox; do
    [ -x "$bb" ] || continue
    out=$(LC_ALL=C ldd "$bb" 2>&1 || true)  # ldd exits 1 on a static binary; pipefail would hide the match
    case "$out" in *"not a dynamic executable"*|*"statically linked"*) echo "$bb"; return 0 ;; esac
  done
  return 1
}

engines_up() {
  ENGINES_DIR="$(mktemp -d "${TMPDIR:-/tmp}/tscloud-ci-engines.XXXXXX")"
  export ENGINES_DIR
  local t0 t1 driver ok=""
  t0=$(_engines_now)
  # overlay2 is the default; some kernels/filesystems (overlay on overlay) refuse it.
  for driver in overlay2 fuse-overlayfs vfs; do
    if [ "$driver" = fuse-overlayfs ] && ! command -v fuse-overlayfs >/dev/null 2>&1; then continue; fi
    rm -rf "$ENGINES_DIR/docker"; mkdir -p "$ENGINES_DIR/docker"
    dockerd --iptables=false --ip-masq=false --bridge=none --storage-driver="$driver" \
      -H "unix://$ENGINES_DIR/docker.sock" --data-root "$ENGINES_DIR/docker/data" \
      --exec-root "$ENGINES_DIR/docker/exec" --pidfile "$ENGINES_DIR/docker.pid" \
      --containerd-namespace tscloud-ci --containerd-plugins-namespace tscloud-ci-plugins \
      >"$ENGINES_DIR/dockerd.log" 2>&1 &
    DOCKERD_PID=$!
    local i
    for i in $(seq 1 120); do
      if DOCKER_HOST="unix://$ENGINES_DIR/docker.sock" docker version >/dev/null 2>&1; then ok=1; break; fi
      kill -0 "$DOCKERD_PID" 2>/dev/null || break
      sleep 0.5
    done
    [ -n "$ok" ] && break
    kill "$DOCKERD_PID" 2>/dev/null; wait "$DOCKERD_PID" 2>/dev/null; DOCKERD_PID=""
  done
  if [ -z "$ok" ]; then
    echo "error: dockerd did not start with overlay2, fuse-overlayfs or vfs; see $ENGINES_DIR/dockerd.log" >&2
    tail -20 "$ENGINES_DIR/dockerd.log" >&2
    return 1
  fi
  export DOCKER_HOST="unix://$ENGINES_DIR/docker.sock"
  t1=$(_engines_now)
  echo "docker engine ($driver) started in $(python3 -c "print(f'{$t1-$t0:.1f}')")s" >&2

  # A base image from a static busybox: `docker import` of a one-binary rootfs.
  local root="$ENGINES_DIR/rootfs" bb
  bb=$(_static_busybox)
  mkdir -p "$root/bin"
  cp "$bb" "$root/bin/busybox"
  for app in sh cat echo ls true false sleep wget httpd env; do ln -sf busybox "$root/bin/$app"; done
  tar -C "$root" -c . | docker import --change 'CMD ["/bin/sh"]' - tscloud-ci/busybox:1 >/dev/null
  export TSCLOUD_TEST_BASE_IMAGE=tscloud-ci/busybox:1

  t0=$(_engines_now)
  export TSCLOUD_TEST_REGISTRY_PASSWORD="123456789012-auth-token"
  local port
  port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
  python3 -W ignore::DeprecationWarning - "$ENGINES_DIR" "$port" <<'EOF'
import crypt, os, sys  # bcrypt cost 4: the registry checks it on every request; it guards loopback only
d, port = sys.argv[1], sys.argv[2]
with open(f"{d}/htpasswd", "w") as fh:
    fh.write("AWS:" + crypt.crypt(os.environ["TSCLOUD_TEST_REGISTRY_PASSWORD"], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)) + "\n")
with open(f"{d}/registry.yml", "w") as fh:
    fh.write(f"""version: 0.1
log: {{level: warn, accesslog: {{disabled: true}}}}
storage: {{filesystem: {{rootdirectory: {d}/registry}}, delete: {{enabled: true}}}}
http: {{addr: "127.0.0.1:{port}"}}
auth: {{htpasswd: {{realm: tscloud-ci, path: {d}/htpasswd}}}}
""")
EOF
  docker-registry serve "$ENGINES_DIR/registry.yml" >"$ENGINES_DIR/registry.log" 2>&1 &
  REGISTRY_PID=$!
  ok=""
  for i in $(seq 1 60); do
    # up means asking for the token (401); answering without auth would be a misconfigured registry
    if python3 - "$port" <<'PY'
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/v2/", timeout=1)
except urllib.error.HTTPError as exc:
    sys.exit(0 if exc.code == 401 else 1)
except OSError:
    sys.exit(1)
sys.exit(1)
PY
    then ok=1; break; fi
    kill -0 "$REGISTRY_PID" 2>/dev/null || break
    sleep 0.25
  done
  if [ -z "$ok" ]; then
    echo "error: the registry did not start; see $ENGINES_DIR/registry.log" >&2
    return 1
  fi
  export TSCLOUD_TEST_REGISTRY="127.0.0.1:$port"
  t1=$(_engines_now)
  echo "registry started in $(python3 -c "print(f'{$t1-$t0:.1f}')")s on $TSCLOUD_TEST_REGISTRY" >&2
  export DOCKERD_PID REGISTRY_PID
}

engines_down() {
  local pid
  for pid in ${REGISTRY_PID:-} ${DOCKERD_PID:-}; do
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
  done
  REGISTRY_PID=""; DOCKERD_PID=""
  # dockerd leaves its own containerd's mounts under the data root; a plain rm copes once it has exited.
  [ -n "${ENGINES_DIR:-}" ] && rm -rf "$ENGINES_DIR" 2>/dev/null || true
}
