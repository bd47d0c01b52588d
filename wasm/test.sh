#!/usr/bin/env bash
# Test the npm package in Node (decisions equal the native CLI's) and the playground in headless Chromium.
# Run after wasm/build.sh. Idempotent: installs Chromium from Debian only when it is missing. Screenshots go to
# wasm/test-results/. `wasm/test.sh node` runs the Node tests alone (CI so tests the stable build beside the
# nightly one: IAMGATE_WASM_TOOLCHAIN=stable wasm/build.sh && wasm/test.sh node).
set -euo pipefail
cd "$(dirname "$0")"
only=${1:-all}

if [ "$only" != node ] && [ ! -x /usr/bin/chromium ]; then
  echo "== wasm: installing Debian's chromium"
  apt-get update -qq && apt-get install -y -qq chromium chromium-driver
fi
if [ ! -f pkg/iamgate.js ] || [ ! -f playground/dist/index.html ] || [ ! -f target/toolchain ]; then
  echo "wasm/test.sh: run wasm/build.sh first" >&2
  exit 2
fi

echo "== wasm: the native CLI to compare with"
(cd .. && cargo build --release --features cli --quiet)
export IAMGATE_CLI="$(cd .. && pwd)/target/release/iamgate"

echo "== wasm: Node tests of the package"
node --test --test-reporter=spec test/api.test.mjs
[ "$only" = node ] && exit 0

echo "== wasm: the playground in headless Chromium"
node --test --test-reporter=spec --test-concurrency=1 test/e2e.test.mjs
echo "screenshots: $(pwd)/test-results/"
