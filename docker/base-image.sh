#!/usr/bin/env bash
# Builds a local stand-in for the official node:24-slim image, for machines that cannot pull from
# an image registry: a root filesystem of this host's Node (>= 22) binary and its shared libraries,
# busybox for /bin/sh, npm (so `npm install -g pnpm@…` works as in the official image), CA
# certificates and a non-root `node` user (uid 1000, as in the official image), imported with
# `docker import`.
#
#   docker/base-image.sh [IMAGE]      # default walras-base:node24
#
# Environment: WALRAS_NODE (a Node binary to use), NODE_EXTRA_CA_CERTS (when set, the file is
# baked in and the image sets NODE_EXTRA_CA_CERTS too, so builds behind a TLS proxy reach npm),
# FORCE=1 (rebuild even when an image with the same inputs exists).
# Idempotent: the image is labelled with a fingerprint of its inputs and not rebuilt when unchanged.
set -euo pipefail

image=${1:-walras-base:node24}
min_major=22

die() {
  echo "base-image: $*" >&2
  exit 1
}

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

find_node() {
  local candidate
  local repo
  repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  # PATH first, then where .ci/run and the dev setup put a Node 24 from npm (`npm i node@24`).
  for candidate in "${WALRAS_NODE:-}" "$(command -v node || true)" "$repo/.ci/.toolchain/node_modules/node/bin/node" \
    /tmp/tc/node_modules/node/bin/node /usr/local/bin/node /usr/bin/node; do
    [[ -n $candidate && -x $candidate ]] || continue
    if (($(node_major "$candidate") >= min_major)); then
      readlink -f "$candidate"
      return 0
    fi
  done
  return 1
}

# npm's own folder (holding bin/npm-cli.js) that goes with the chosen node.
find_npm() {
  local node_bin=$1 candidate npm_cli
  npm_cli=$(readlink -f "$(command -v npm || echo /nonexistent)" 2>/dev/null || true)
  for candidate in "$(dirname "$node_bin")/../lib/node_modules/npm" "${npm_cli%/bin/npm-cli.js}" \
    /usr/local/lib/node_modules/npm /usr/lib/node_modules/npm; do
    if [[ -f $candidate/bin/npm-cli.js ]]; then
      readlink -f "$candidate"
      return 0
    fi
  done
  return 1
}

command -v docker >/dev/null || die "docker is not installed"
docker info >/dev/null 2>&1 || die "the docker engine is not reachable (is dockerd running?)"

node_bin=$(find_node) ||
  die "no Node.js >= $min_major found (tried \$WALRAS_NODE, node on PATH, .ci/.toolchain, /tmp/tc); install one, e.g. 'npm install node@24', and set WALRAS_NODE"
npm_dir=$(find_npm "$node_bin") || die "npm's folder (bin/npm-cli.js) not found next to $node_bin or on PATH"

is_static() { [[ -x $1 ]] && ! ldd "$1" >/dev/null 2>&1; }
busybox=$(command -v busybox || echo /bin/busybox)
if ! is_static "$busybox"; then
  command -v apt-get >/dev/null || die "a static busybox is needed for /bin/sh and apt-get is not available"
  echo "base-image: installing busybox-static" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null ||
    die "apt-get install busybox-static failed (run apt-get update first?)"
  busybox=/bin/busybox
  is_static "$busybox" || die "$busybox is not statically linked"
fi

ca_bundle=/etc/ssl/certs/ca-certificates.crt
extra_ca=${NODE_EXTRA_CA_CERTS:-}
[[ -z $extra_ca || -f $extra_ca ]] || die "NODE_EXTRA_CA_CERTS names $extra_ca, which does not exist"

fingerprint=$(
  {
    sha256sum "$node_bin" "$npm_dir/package.json" "$busybox" "$0"
    [[ -f $ca_bundle ]] && sha256sum "$ca_bundle"
    [[ -n $extra_ca ]] && sha256sum "$extra_ca"
    echo "extra=$extra_ca"
  } | sha256sum | cut -c1-16
)

existing=$(docker image inspect --format '{{ index .Config.Labels "walras.base.fingerprint" }}' "$image" 2>/dev/null || true)
if [[ $existing == "$fingerprint" && ${FORCE:-0} != 1 ]]; then
  echo "base-image: $image is up to date (fingerprint $fingerprint)"
  exit 0
fi

rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs"/{bin,usr/bin,usr/local/bin,usr/local/lib/node_modules,etc/ssl/certs,tmp,root,home/node,data}
chmod 1777 "$rootfs/tmp"

# Node and every shared library it links against, at the same paths (the dynamic loader included).
cp "$node_bin" "$rootfs/usr/local/bin/node"
ldd "$node_bin" | grep -oE '/[^ ]+' | sort -u | while read -r lib; do
  mkdir -p "$rootfs$(dirname "$lib")"
  cp -L "$lib" "$rootfs$lib"
done

# busybox as /bin/sh and the usual tools (env for `#!/usr/bin/env node` shebangs, chown, mkdir…).
cp "$busybox" "$rootfs/bin/busybox"
for applet in $("$busybox" --list); do
  [[ -e $rootfs/bin/$applet ]] || ln -s busybox "$rootfs/bin/$applet"
done
ln -sf ../../bin/busybox "$rootfs/usr/bin/env"

# npm, with the wrappers the official image has: npm's global prefix is then /usr/local (from
# the node binary's location), so `npm install -g pnpm` lands in /usr/local/bin.
cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
for tool in npm npx; do
  printf '#!/bin/sh\nexec /usr/local/bin/node /usr/local/lib/node_modules/npm/bin/%s-cli.js "$@"\n' "$tool" \
    >"$rootfs/usr/local/bin/$tool"
  chmod 755 "$rootfs/usr/local/bin/$tool"
done

[[ -f $ca_bundle ]] && cp "$ca_bundle" "$rootfs/etc/ssl/certs/ca-certificates.crt"
changes=(
  --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin'
  --change "LABEL walras.base.fingerprint=$fingerprint"
  --change "LABEL walras.base.node=$("$node_bin" --version)"
  --change 'CMD ["node"]'
)
if [[ -n $extra_ca ]]; then
  cp "$extra_ca" "$rootfs/etc/ssl/certs/node-extra-ca.crt"
  changes+=(--change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/node-extra-ca.crt')
fi

cat >"$rootfs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
node:x:1000:1000:node:/home/node:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$rootfs/etc/group" <<'EOF'
root:x:0:
node:x:1000:
nogroup:x:65534:
EOF
echo 'hosts: files dns' >"$rootfs/etc/nsswitch.conf"

chown -R 1000:1000 "$rootfs/home/node"
tar -C "$rootfs" --numeric-owner -c . |
  docker import "${changes[@]}" --message "walras base: $("$node_bin" --version) from $node_bin" - "$image" >/dev/null
docker image inspect "$image" >/dev/null || die "docker import did not produce $image"
echo "base-image: built $image ($("$node_bin" --version), npm $("$node_bin" "$npm_dir/bin/npm-cli.js" --version 2>/dev/null), fingerprint $fingerprint)"
