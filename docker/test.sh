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
#   4. tear everything down, leaving no containers, networks or volumes (also on failure, Ctrl-C or
#      SIGTERM).
#
# Each run is its own, so two runs on one machine (or the leftovers of one killed with SIGKILL) do
# not collide: its Compose project name, image tag and network subnet are chosen per run, and every
# port it publishes on the host is ephemeral, read back with `compose port` (or, for the node joined
# from the host, from its log).
#
# Environment (all optional):
#   COMPOSE              compose command, e.g. "docker-compose" or "docker compose" (default: v2 if
#                        present, else v1, else install Debian's docker-compose)
#   WALRAS_BASE_IMAGE    base image for the build (default: node:24-slim when present or pullable,
#                        else a local one built by docker/base-image.sh)
#   WALRAS_TEST_TIMEOUT  seconds for each convergence wait (default 240)
#   WALRAS_TEST_TOLERANCE relative tolerance against the reference solver (default 1e-4)
#   WALRAS_TEST_SKIP_BUILD=1  use $WALRAS_IMAGE as it is (built beforehand) instead of building
#   WALRAS_IMAGE         image to build and run (default walras:test-<run id>, removed afterwards;
#                        walras:test with WALRAS_TEST_SKIP_BUILD=1)
#   WALRAS_TEST_PROJECT  Compose project name (default walrastest-<run id>)
#   WALRAS_SUBNET        the testnet network's subnet (default: a free 172.30.N.0/24, picked per run)
#   WALRAS_BOOTSTRAP_HTTP_PORT, WALRAS_BOOTSTRAP_P2P_PORT, WALRAS_A1_HTTP_PORT, WALRAS_HOST_HTTP_PORT
#                        host ports (default 0: ephemeral, chosen by Docker or the kernel)
set -euo pipefail

started=$SECONDS
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
run_id=$$-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
project=${WALRAS_TEST_PROJECT:-walrastest-$run_id}
timeout=${WALRAS_TEST_TIMEOUT:-240}
tolerance=${WALRAS_TEST_TOLERANCE:-1e-4}
agents=(a1 a2 a3 a4 a5)
# An image tag of its own, so a concurrent run building other sources cannot swap the image under
# this one; removed at teardown (its layers stay in the build cache for the next run).
own_image=0
if [[ -z ${WALRAS_IMAGE:-} && ${WALRAS_TEST_SKIP_BUILD:-0} != 1 ]]; then
  WALRAS_IMAGE=walras:test-$run_id
  own_image=1
fi
export WALRAS_IMAGE=${WALRAS_IMAGE:-walras:test}
# Host ports: 0 publishes on an ephemeral port, read back once the containers are up.
export WALRAS_BOOTSTRAP_HTTP_PORT=${WALRAS_BOOTSTRAP_HTTP_PORT:-0}
export WALRAS_BOOTSTRAP_P2P_PORT=${WALRAS_BOOTSTRAP_P2P_PORT:-0}
export WALRAS_A1_HTTP_PORT=${WALRAS_A1_HTTP_PORT:-0}
WALRAS_HOST_HTTP_PORT=${WALRAS_HOST_HTTP_PORT:-0}
# Empty: a free subnet is picked before `compose up` (and another if that one turns out taken).
subnet_given=${WALRAS_SUBNET:-}

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
log "engine $(docker version --format '{{.Server.Version}}'), compose: $COMPOSE ($(compose version --short 2>/dev/null || echo '?')), project $project"

# --- teardown, from here on however the script ends ----------------------------------------------

# Containers this run starts outside Compose (probes, the node joined from the host) carry this
# label, so teardown finds them even when an interrupt left one running.
run_label=walras.test.run=$project
joiner=$project-host-joiner

teardown() {
  local rc=$? left ids
  trap - EXIT
  # Cleanup runs to the end: no errexit, and a second Ctrl-C does not cut it short.
  set +e
  trap '' INT TERM HUP
  docker rm -f -v "$joiner" >/dev/null 2>&1
  if ((rc != 0)) && [[ -n ${network:-} ]]; then
    log "state at failure:"
    compose ps >&2
    compose logs --no-color --tail 15 >&2 2>/dev/null
  fi
  log "tearing down"
  mapfile -t ids < <(docker ps -aq --filter "label=$run_label")
  ((${#ids[@]} == 0)) || docker rm -f -v "${ids[@]}" >/dev/null 2>&1
  compose down -v --remove-orphans >/dev/null 2>&1 || log "compose down failed"
  if ((own_image)) && docker image inspect "$WALRAS_IMAGE" >/dev/null 2>&1; then
    docker rmi --no-prune "$WALRAS_IMAGE" >/dev/null 2>&1 || log "could not remove the image $WALRAS_IMAGE"
  fi
  left=$(
    docker ps -aq --filter "label=com.docker.compose.project=$project"
    docker ps -aq --filter "label=$run_label"
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
trap teardown EXIT
# A signal ends the script through the EXIT trap (bash runs it for `exit`, not for every signal).
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# Leftovers of an interrupted run of the same project (WALRAS_TEST_PROJECT given) would make the
# network's state unknown: start clean.
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

# The probe (docker/probe.ts) runs in a throwaway container on the testnet's network (probe) or
# on the host's (probe_host, to reach the ports Compose publishes on 127.0.0.1).
probe_on() {
  local net=$1
  shift
  docker run --rm --label "$run_label" --network "$net" -v "$here:/walras-docker:ro" -v "$here/testnet:/etc/walras:ro" \
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

# Subnets: a /24 no Docker network and no host route overlaps, picked at random in 172.30.0.0/16
# so that runs starting together rarely pick the same one (the loser's `compose up` fails on the
# overlap, and it picks again).
ip4_int() {
  local IFS=. a b c d
  read -r a b c d <<<"$1"
  echo $(((a << 24) | (b << 16) | (c << 8) | d))
}
# cidr_overlap A/LEN B/LEN: whether the two ranges share an address.
cidr_overlap() {
  local a=${1%/*} b=${2%/*} al=${1#*/} bl=${2#*/} len mask
  len=$((al < bl ? al : bl))
  mask=$(((0xFFFFFFFF << (32 - len)) & 0xFFFFFFFF))
  (((($(ip4_int "$a") ^ $(ip4_int "$b")) & mask) == 0))
}
subnets_in_use() {
  local nets
  mapfile -t nets < <(docker network ls -q)
  ((${#nets[@]} == 0)) || docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}} {{end}}' "${nets[@]}"
  ip -4 route show 2>/dev/null | awk '$1 != "default" { print $1 }'
}
pick_subnet() {
  local used candidate u tries
  used=$(subnets_in_use | tr ' ' '\n' | grep -E '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+(/[0-9]+)?$' || true)
  for ((tries = 0; tries < 100; tries++)); do
    candidate=172.30.$((RANDOM % 256)).0/24
    for u in $used; do
      [[ $u == */* ]] || u=$u/32
      cidr_overlap "$candidate" "$u" && continue 2
    done
    echo "$candidate"
    return 0
  done
  return 1
}

# published SERVICE PORT: the host port Docker published the service's PORT on.
published() {
  local out
  out=$(compose port "$1" "$2" 2>/dev/null | tail -n 1)
  [[ $out =~ :([0-9]+)$ ]] || die "$1's port $2 is not published (compose port said '$out')"
  echo "${BASH_REMATCH[1]}"
}

# --- 2. up, converge, check ------------------------------------------------------------------------

for ((attempt = 1; ; attempt++)); do
  WALRAS_SUBNET=$subnet_given
  [[ -n $WALRAS_SUBNET ]] || WALRAS_SUBNET=$(pick_subnet) || die "no free /24 in 172.30.0.0/16"
  export WALRAS_SUBNET
  log "compose up: bootstrap + ${#agents[@]} agents, subnet $WALRAS_SUBNET"
  out=$(compose up -d --no-build 2>&1) && break
  # Taken between the look and the creation (another run, say): clean up and pick another.
  if [[ -z $subnet_given && $attempt -lt 5 ]] && grep -qi 'overlap' <<<"$out"; then
    log "subnet $WALRAS_SUBNET is taken: $(grep -i -m 1 'overlap' <<<"$out")"
    compose down -v --remove-orphans >/dev/null 2>&1 || true
    continue
  fi
  die "compose up failed: $(tail -5 <<<"$out")"
done
network=$(docker network ls -q --filter "label=com.docker.compose.project=$project")
[[ -n $network ]] || die "compose created no network for project $project"
bootstrap_http=$(published bootstrap 8080)
bootstrap_p2p=$(published bootstrap 4001)
a1_http=$(published a1 8080)
log "published on 127.0.0.1: bootstrap status $bootstrap_http, p2p $bootstrap_p2p; a1 status $a1_http"

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
for published in "bootstrap@127.0.0.1:$bootstrap_http" "a1@127.0.0.1:$a1_http"; do
  inside=$(probe peer-id "${published%@*}" | field peerId)
  outside=$(probe_host peer-id "$published" | field peerId) || die "${published%@*}'s published status port does not answer"
  [[ -n $inside && $inside == "$outside" ]] ||
    die "127.0.0.1 port of ${published%@*} answers as $outside, inside the network it is $inside"
done
log "published status ports answer: bootstrap on $bootstrap_http, a1 on $a1_http"

# --- a node on the host joins through the bootstrap's published p2p port, then leaves -------------

# It runs in the image on the host's network (the host may lack Node 24); its status API listens on
# the testnet bridge's gateway address only, where the probe can reach it.
# Docker gives the bridge the subnet's first address when Compose names only the subnet.
subnet=$(docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' "$network")
[[ $subnet =~ ^([0-9]+\.[0-9]+\.[0-9]+)\.([0-9]+)/ ]] || die "network $network has no IPv4 subnet (got '$subnet')"
gateway=${BASH_REMATCH[1]}.$((BASH_REMATCH[2] + 1))
log "walras testnet join /ip4/127.0.0.1/tcp/$bootstrap_p2p from the host"
docker run -d --rm --name "$joiner" --label "com.docker.compose.project=$project" --label "$run_label" \
  --network host -v "$here/testnet:/etc/walras:ro" -e WALRAS_LISTEN=/ip4/0.0.0.0/tcp/0 \
  -e "WALRAS_HTTP_HOST=$gateway" -e "WALRAS_HTTP_PORT=$WALRAS_HOST_HTTP_PORT" "$WALRAS_IMAGE" \
  testnet join "/ip4/127.0.0.1/tcp/$bootstrap_p2p" --agent /etc/walras/agents/host.json >/dev/null
# Its status port (ephemeral unless WALRAS_HOST_HTTP_PORT is set) from the line it prints.
deadline=$((SECONDS + timeout))
until host_http=$(docker logs "$joiner" 2>/dev/null | sed -nE 's#^walras node [^ ]+ http http://([^/ ]+)/?$#\1#p' | tail -n 1) &&
  [[ -n $host_http ]]; do
  [[ $(docker inspect -f '{{.State.Running}}' "$joiner" 2>/dev/null) == true ]] ||
    die "the host node exited before serving HTTP"
  ((SECONDS < deadline)) || die "the host node printed no HTTP address within ${timeout}s: $(docker logs "$joiner" 2>&1 | tail -3)"
  sleep 1
done
host_node="host@$host_http"
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
