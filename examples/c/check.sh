#!/usr/bin/env bash
# Build the C example against the shared and the static library, run both, and run both builds under
# valgrind memcheck (no errors, no leaks), and checks that deciding threads share no written cache line
# (capi/examples/shared_writes.sh). Also runs the C ABI crate's tests and lints (the root's `cargo test`
# builds the core only) and checks include/iamgate.h for drift. CI calls this script; it installs gcc and
# valgrind when missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

# What the C side needs, installed when missing (Debian packages; idempotent).
need() {
    command -v "$1" >/dev/null 2>&1 && return 0
    local sudo=""
    [[ $(id -u) == 0 ]] || sudo=sudo
    $sudo apt-get install -y -q "$2" >/dev/null 2>&1 || { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q "$2" >/dev/null; }
}

echo "== C ABI crate: tests and clippy"
cargo test -q -p iamgate-capi 2>&1 | grep -E "^test result|FAILED|panicked" || true
cargo test -q -p iamgate-capi >/dev/null
cargo clippy -q -p iamgate-capi --all-targets -- -D warnings

echo "== header"
bash scripts/header.sh --check

need gcc gcc

echo "== build the library (release)"
cargo build -q --release -p iamgate-capi
lib="$root/target/release"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

flags=(-std=c11 -O2 -Wall -Wextra -Werror -pthread -I "$root/include")
gcc "${flags[@]}" examples/c/main.c -o "$out/shared" -L "$lib" -liamgate_capi -Wl,-rpath,"$lib"
gcc "${flags[@]}" examples/c/main.c -o "$out/static" "$lib/libiamgate_capi.a" -lpthread -ldl -lm

bundles=(corpus/bench/bundle.json examples/c/locked-bundle.json)
echo "== shared library"
"$out/shared" "${bundles[@]}"
echo "== static library"
"$out/static" "${bundles[@]}"

need valgrind valgrind
echo "== valgrind memcheck (shared and static)"
for exe in shared static; do
    valgrind -q --fair-sched=yes --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect,possible \
        --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 \
        "$out/$exe" "${bundles[@]}" >/dev/null
done

echo "== no cache line written on every decision and used by another deciding thread (lackey)"
need python3 python3-minimal
bash capi/examples/shared_writes.sh
echo "examples/c: ok"
