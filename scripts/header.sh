#!/usr/bin/env bash
# Generate include/iamgate.h from the C ABI crate with cbindgen; `--check` fails when the checked-in header
# differs from what the code generates (CI runs it so the header never drifts).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cbindgen >/dev/null 2>&1; then
    cargo install cbindgen --version 0.29.4 -q
fi
out=include/iamgate.h
if [[ "${1:-}" == "--check" ]]; then
    tmp=$(mktemp)
    trap 'rm -f "$tmp"' EXIT
    cbindgen --quiet --config capi/cbindgen.toml --crate iamgate-capi --output "$tmp" capi
    if ! diff -u "$out" "$tmp"; then
        echo "include/iamgate.h is out of date: run scripts/header.sh" >&2
        exit 1
    fi
    echo "include/iamgate.h matches the code"
else
    cbindgen --quiet --config capi/cbindgen.toml --crate iamgate-capi --output "$out" capi
fi
