#!/usr/bin/env bash
# The proxy example: lints, unit tests, and the end-to-end test (the proxy binary on a loopback port in front of
# a local upstream, a real HTTP client, reloads by file change and SIGHUP). Not part of the root's `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo clippy -q -p iamgate-proxy --all-targets -- -D warnings
cargo test -q -p iamgate-proxy 2>&1 | grep -E "^test result|FAILED|panicked" || true
cargo test -q -p iamgate-proxy >/dev/null
echo "examples/proxy: ok"
