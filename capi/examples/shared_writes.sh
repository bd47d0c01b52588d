#!/usr/bin/env bash
# The cache lines (64 bytes) that one deciding thread writes and another deciding thread writes or reads
# (capi/examples/shared_writes.rs), for each MODE given (rust, engine, capi; all three by default). Each
# thread makes N decisions (default 50): a line touched on every decision shows N writes or more; a few writes
# are the threads' one-off set-up (the thread taking its hazard slot, thread-locals). Fails when some line is
# written on every decision (examples/c/check.sh runs it). Needs valgrind, python3.
#   bash capi/examples/shared_writes.sh [MODE...]
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build -q --release -p iamgate-capi --example shared_writes
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=${N:-50}
modes=("$@")
[ ${#modes[@]} -eq 0 ] && modes=(rust engine capi)
for m in "${modes[@]}"; do
  MODE=$m N=$n valgrind --tool=lackey --trace-mem=yes --log-file="$tmp/trace" \
    target/release/examples/shared_writes 2> "$tmp/err"
  mark=$(grep -oP 'MARK at \K0x[0-9a-f]+' "$tmp/err")
  echo "MODE=$m, $n decisions a thread:"
  python3 capi/examples/shared_writes.py "$tmp/trace" "$mark" "$n"
done
