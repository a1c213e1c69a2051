#!/usr/bin/env bash
# End-to-end test of the Compose testnet, for real, from a clean state (run as root):
#   1. install and start the Docker engine (+ Compose) where absent; build the base and project images;
#   2. bring up a bootstrap node and 5 agents; wait until every node reports the same certificate
#      and check it against the reference solver (walras simulate) and the verifier;
#   2b. check the status ports published on 127.0.0.1; join a node from the host through the
#      bootstrap's published p2p port (6-member certificate, checked), then let it leave;
#   3. stop one agent (graceful leave), then kill another (a crash); each time wait for the others
#      to re-equilibrate without it (checked again), restart it, and wait until it rejoins with the
#      same peer id (its key lives in its volume) and a 5-member certificate;
#   4. tear everything down, leaving no containers, networks or volumes (also on failure).
#
# Environment (all optional):
#   COMPOSE              compose command, e.g. "docker-compose" or "docker compose" (default: v2 if
#                        present, else v1, else install Debian's docker-compose)
#   WALRAS_BASE_IMAGE    base image for the build (default: node:24-slim when present or pullable,
#                        else a local one built by docker/base-image.sh)
#   WALRAS_TEST_TIMEOUT  seconds for each convergence wait (default 240)
#   WALRAS_TEST_TOLERANCE relative tolerance against the reference solver (default 1e-4)
#   WALRAS_TEST_SKIP_BUILD=1  use $WALRAS_IMAGE as it is (built beforehand) instead of building
set -euo pipefail

started=$SECONDS
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
project=${WALRAS_TEST_PROJECT:-walrastest}
timeout=${WALRAS_TEST_TIMEOUT:-240}
tolerance=${WALRAS_TEST_TOLERANCE:-1e-4}
agents=(a1 a2 a3 a4 a5)
export WALRAS_IMAGE=${WALRAS_IMAGE:-walras:test}
# Host ports away from the defaults, so a testnet a developer runs is not in the way.
export WALRAS_BOOTSTRAP_HTTP_PORT=${WALRAS_BOOTSTRAP_HTTP_PORT:-18080}
export WALRAS_BOOTSTRAP_P2P_PORT=${WALRAS_BOOTSTRAP_P2P_PORT:-14001}
export WALRAS_A1_HTTP_PORT=${WALRAS_A1_HTTP_PORT:-18081}
WALRAS_HOST_HTTP_PORT=${WALRAS_HOST_HTTP_PORT:-18089}
export WALRAS_SUBNET=${WALRAS_SUBNET:-172.30.58.0/24}

log() { printf '[docker-test %4ds] %s\n' $((SECONDS - started)) "$*" >&2; }
die() {
  log "FAIL: $*"
  exit 1
}

[[ $(id -u) == 0 ]] || die "run as root (it installs and starts the Docker engine)"
# Debian installs dockerd (and the iptables it calls) in /usr/sbin, which a caller's PATH may lack
# (CI runs with PATH=/usr/bin:/bin): without it apt's engine installed and was then not found.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

# --- 1. engine, compose, images ----------------------------------------------------------------

apt_install() {
  log "installing $* with apt"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null || die "apt-get install $* failed"
}

command -v dockerd >/dev/null || apt_install docker.io
command -v docker >/dev/null || die "docker.io is installed but there is no docker client on PATH"

if ! docker info >/dev/null 2>&1; then
  log "starting dockerd (log: /var/log/walras-dockerd.log)"
  setsid dockerd >/var/log/walras-dockerd.log 2>&1 </dev/null &
  deadline=$((SECONDS + 60))
  until docker info >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "dockerd did not answer within 60s; see /var/log/walras-dockerd.log"
    sleep 1
  done
fi

if [[ -z ${COMPOSE:-} ]]; then
  if docker compose version >/dev/null 2>&1; then
    COMPOSE="docker compose"
  else
    command -v docker-compose >/dev/null || apt_install docker-compose
    COMPOSE=docker-compose
  fi
fi
read -r -a compose_cmd <<<"$COMPOSE"
compose() { "${compose_cmd[@]}" -p "$project" -f "$here/compose.yaml" "$@"; }
log "engine $(docker version --format '{{.Server.Version}}'), compose: $COMPOSE ($(compose version --short 2>/dev/null || echo '?'))"

# Leftovers of an interrupted run would make the network's state unknown: start clean.
compose down -v --remove-orphans >/dev/null 2>&1 || true

build_images() {
  local base=${WALRAS_BASE_IMAGE:-} t size
  if [[ -z $base ]]; then
    if docker image inspect node:24-slim >/dev/null 2>&1 || timeout 60 docker pull -q node:24-slim >/dev/null 2>&1; then
      base=node:24-slim
    else
      base=walras-base:node24
      log "node:24-slim cannot be pulled: building the local base image $base"
      t=$SECONDS
      "$here/base-image.sh" "$base" >&2 || die "docker/base-image.sh failed"
      log "base image ready in $((SECONDS - t))s"
    fi
  fi
  export WALRAS_BASE_IMAGE=$base
  log "building $WALRAS_IMAGE from $base"
  t=$SECONDS
  docker build -q -f "$here/Dockerfile" -t "$WALRAS_IMAGE" --build-arg "BASE_IMAGE=$base" --network host "$root" >/dev/null ||
    die "docker build failed (run it without -q to see why: docker build -f docker/Dockerfile --build-arg BASE_IMAGE=$base --network host .)"
  size=$(docker image inspect --format '{{.Size}}' "$WALRAS_IMAGE")
  log "built $WALRAS_IMAGE in $((SECONDS - t))s, $((size / 1000000)) MB"
}

if [[ ${WALRAS_TEST_SKIP_BUILD:-0} == 1 ]]; then
  docker image inspect "$WALRAS_IMAGE" >/dev/null 2>&1 || die "WALRAS_TEST_SKIP_BUILD=1 but there is no image $WALRAS_IMAGE"
  log "using $WALRAS_IMAGE as built"
else
  build_images
fi

# --- helpers -------------------------------------------------------------------------------------

teardown() {
  local rc=$? left
  trap - EXIT
  docker rm -f -v "$joiner" >/dev/null 2>&1 || true
  if ((rc != 0)) && [[ -n ${network:-} ]]; then
    log "state at failure:"
    compose ps >&2 || true
    compose logs --no-color --tail 15 >&2 2>/dev/null || true
  fi
  log "tearing down"
  compose down -v --remove-orphans >/dev/null 2>&1 || log "compose down failed"
  left=$(
    docker ps -aq --filter "label=com.docker.compose.project=$project"
    docker network ls -q --filter "label=com.docker.compose.project=$project"
    docker volume ls -q --filter "label=com.docker.compose.project=$project"
  )
  if [[ -n $left ]]; then
    log "FAIL: left behind after teardown: $(echo "$left" | tr '\n' ' ')"
    rc=1
  fi
  log "$( ((rc == 0)) && echo PASS || echo FAIL) in $((SECONDS - started))s"
  exit "$rc"
}
joiner=$project-host-joiner
trap teardown EXIT

# The probe (docker/probe.ts) runs in a throwaway container on the testnet's network (probe) or
# on the host's (probe_host, to reach the ports Compose publishes on 127.0.0.1).
probe_on() {
  local net=$1
  shift
  docker run --rm --network "$net" -v "$here:/walras-docker:ro" -v "$here/testnet:/etc/walras:ro" \
    --entrypoint node "$WALRAS_IMAGE" /walras-docker/probe.ts "$@"
}
probe() { probe_on "$network" "$@"; }
probe_host() { probe_on host "$@"; }

# wait_for WHAT SECONDS PROBE_COMMAND...: polls the probe until it reports success (exit 0), fails
# at once on a hard failure (exit 1), and gives up after SECONDS. Prints the probe's result.
wait_for() {
  local what=$1 limit=$2 deadline=$((SECONDS + $2)) next_note=$((SECONDS + 15)) out rc err
  shift 2
  err=$(mktemp)
  while :; do
    rc=0
    out=$("$@" 2>"$err") || rc=$?
    if ((rc == 0)); then
      rm -f "$err"
      echo "$out"
      return 0
    fi
    ((rc == 3)) || die "$what: $(cat "$err")"
    ((SECONDS < deadline)) || die "timed out after ${limit}s waiting for $what; last: $(cat "$err")"
    if ((SECONDS >= next_note)); then
      log "  waiting for $what: $(cat "$err")"
      next_note=$((SECONDS + 15))
    fi
    sleep 2
  done
}

# check_solver WHAT AGENT...: the certificate verifies and matches the reference solver.
check_solver() {
  local what=$1 out
  shift
  out=$(probe check-solver --tolerance "$tolerance" "$@" 2>&1) || die "$what: $out"
  log "$what matches the reference solver: $out"
}

field() { sed -nE "s/.*\"$1\":\"([^\"]*)\".*/\\1/p"; }

# --- 2. up, converge, check ------------------------------------------------------------------------

log "compose up: bootstrap + ${#agents[@]} agents"
out=$(compose up -d --no-build 2>&1) || die "compose up failed: $(tail -5 <<<"$out")"
network=$(docker network ls -q --filter "label=com.docker.compose.project=$project")
[[ -n $network ]] || die "compose created no network for project $project"

result=$(wait_for "a 5-member certificate on every node" "$timeout" probe converged --members 5 bootstrap "${agents[@]}")
digest=$(field digest <<<"$result")
log "converged: certificate $digest on all 6 nodes"
check_solver "the 5-member certificate" "${agents[@]}"

# The image's HEALTHCHECK (GET /status) passes on every node.
deadline=$((SECONDS + 90))
while :; do
  unhealthy=$(for c in $(compose ps -q); do docker inspect -f '{{.Name}}={{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$c"; done | grep -v '=healthy$' || true)
  [[ -z $unhealthy ]] && break
  ((SECONDS < deadline)) || die "containers not healthy after 90s: $(echo "$unhealthy" | tr '\n' ' ')"
  sleep 2
done
log "every container reports healthy"

# The status APIs Compose publishes on 127.0.0.1 answer for the same nodes.
for published in "bootstrap@127.0.0.1:$WALRAS_BOOTSTRAP_HTTP_PORT" "a1@127.0.0.1:$WALRAS_A1_HTTP_PORT"; do
  inside=$(probe peer-id "${published%@*}" | field peerId)
  outside=$(probe_host peer-id "$published" | field peerId) || die "${published%@*}'s published status port does not answer"
  [[ -n $inside && $inside == "$outside" ]] ||
    die "127.0.0.1 port of ${published%@*} answers as $outside, inside the network it is $inside"
done
log "published status ports answer: bootstrap on $WALRAS_BOOTSTRAP_HTTP_PORT, a1 on $WALRAS_A1_HTTP_PORT"

# --- a node on the host joins through the bootstrap's published p2p port, then leaves -------------

# It runs in the image on the host's network (the host may lack Node 24); its status API listens on
# the testnet bridge's gateway address only, where the probe can reach it.
# Docker gives the bridge the subnet's first address when Compose names only the subnet.
subnet=$(docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' "$network")
[[ $subnet =~ ^([0-9]+\.[0-9]+\.[0-9]+)\.([0-9]+)/ ]] || die "network $network has no IPv4 subnet (got '$subnet')"
gateway=${BASH_REMATCH[1]}.$((BASH_REMATCH[2] + 1))
host_node="host@$gateway:$WALRAS_HOST_HTTP_PORT"
log "walras testnet join /ip4/127.0.0.1/tcp/$WALRAS_BOOTSTRAP_P2P_PORT from the host"
docker run -d --rm --name "$joiner" --label "com.docker.compose.project=$project" --network host \
  -v "$here/testnet:/etc/walras:ro" -e WALRAS_LISTEN=/ip4/0.0.0.0/tcp/0 -e "WALRAS_HTTP_HOST=$gateway" \
  -e "WALRAS_HTTP_PORT=$WALRAS_HOST_HTTP_PORT" "$WALRAS_IMAGE" \
  testnet join "/ip4/127.0.0.1/tcp/$WALRAS_BOOTSTRAP_P2P_PORT" --agent /etc/walras/agents/host.json >/dev/null
host_peer=$(wait_for "the host node to serve /status" "$timeout" probe peer-id "$host_node" | field peerId)
result=$(wait_for "a 6-member certificate with the host node" "$timeout" \
  probe converged --members 6 --with "$host_peer" --not "$digest" bootstrap "${agents[@]}" "$host_node")
digest=$(field digest <<<"$result")
log "the host node joined: certificate $digest"
check_solver "the 6-member certificate" "${agents[@]}" "$host_node"
docker stop "$joiner" >/dev/null
result=$(wait_for "a 5-member certificate after the host node left" "$timeout" \
  probe converged --members 5 --without "$host_peer" --not "$digest" bootstrap "${agents[@]}")
digest=$(field digest <<<"$result")
log "the host node left: certificate $digest"
check_solver "the 5-member certificate after the host node left" "${agents[@]}"

# --- 3. an agent goes away, the rest re-equilibrate; it comes back with the same identity ----------

# drop_and_rejoin stop|kill AGENT: `docker stop` (SIGTERM: the node leaves gracefully) or
# `docker kill` (SIGKILL: a crash, noticed only by its silence); then `docker start` it again.
drop_and_rejoin() {
  local how=$1 victim=$2 peer container restarted result others=()
  for a in "${agents[@]}"; do [[ $a == "$victim" ]] || others+=("$a"); done
  peer=$(probe peer-id "$victim" | field peerId)
  [[ -n $peer ]] || die "no peer id for $victim"
  container=$(compose ps -q "$victim")
  log "docker $how $victim ($peer)"
  docker "$how" "$container" >/dev/null

  result=$(wait_for "a 4-member certificate without $victim (after docker $how)" "$timeout" \
    probe converged --members 4 --without "$peer" --not "$digest" bootstrap "${others[@]}")
  digest=$(field digest <<<"$result")
  log "re-equilibrated without $victim: certificate $digest"
  check_solver "the 4-member certificate" "${others[@]}"

  log "docker start $victim"
  docker start "$container" >/dev/null
  restarted=$(wait_for "$victim to serve /status again" "$timeout" probe peer-id "$victim" | field peerId)
  [[ $restarted == "$peer" ]] ||
    die "$victim came back as $restarted, not $peer: its key did not survive in its volume"
  result=$(wait_for "a 5-member certificate with $victim back (after docker $how)" "$timeout" \
    probe converged --members 5 --with "$peer" --not "$digest" bootstrap "${agents[@]}")
  digest=$(field digest <<<"$result")
  log "$victim rejoined with the same peer id: certificate $digest"
  check_solver "the certificate after $victim rejoined" "${agents[@]}"
}

drop_and_rejoin stop a2
drop_and_rejoin kill a3

# --- 4. teardown (the EXIT trap) ------------------------------------------------------------------
