#!/usr/bin/env bash
# CI step: the newest pnpm on npm installs a fresh copy of the repository from its lockfile
# (`--frozen-lockfile`), as the pinned pnpm does in the main step, and the tree it installs runs
# walras. The package.json pin (`packageManager`) must not stop a newer pnpm: pnpm-workspace.yaml
# sets `pmOnFail: warn`, so pnpm 11 and 12 warn instead of fetching pnpm 10 as @pnpm/exe.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A store of its own (newer pnpm majors change the store layout), kept between runs; outside the
# repository, whose linters would walk into it.
store="${XDG_CACHE_HOME:-$HOME/.cache}/walras-ci/pnpm-latest-store"

npm install --no-save --no-audit --no-fund --prefix "$work/pnpm" pnpm@latest >/dev/null
pnpm_latest="$work/pnpm/node_modules/.bin/pnpm"

# What a fresh clone holds: the tracked files (as they are in the working tree) and new files
# that are not ignored; no node_modules.
mkdir "$work/repo"
git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
  tar --null -T - -cf - | tar -xf - -C "$work/repo"

cd "$work/repo"
echo "ci: a fresh copy installed with the latest pnpm, $("$pnpm_latest" --version 2>/dev/null)"
"$pnpm_latest" install --frozen-lockfile --store-dir "$store"
echo "ci: walras $("$pnpm_latest" --silent walras --version) runs from it"
