#!/usr/bin/env bash
# Instructions per forwarded request (callgrind): the proxy, and a bare hyper forwarder without iamgate (the
# latency test's, in its own process), each driven by N and 2N sequential keep-alive GETs from a Python client
# through a Python upstream; the difference of the two runs divided by N is the cost of one request in the
# forwarder's process (user-space instructions; the kernel's share is not counted). Needs valgrind and python3.
#   bash examples/proxy/cost.sh [N]
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-1000}
cargo build -q --release -p iamgate-proxy
cargo test -q --release -p iamgate-proxy --test latency --no-run 2>/dev/null
bare_bin=$(ls -t target/release/deps/latency-* | grep -v '\.d$' | head -1)
tmp=$(mktemp -d)
python3 examples/proxy/cost/upstream.py 9101 &
up_pid=$!
trap 'kill $up_pid 2>/dev/null; rm -rf "$tmp"' EXIT
sleep 0.5
# One run: the forwarder under callgrind, `n` requests, the instructions it ran.
run() {
  local what=$1 n=$2
  : > "$tmp/out"
  if [ "$what" = proxy ]; then
    valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/iamgate-proxy --listen 127.0.0.1:0 \
      --bundle corpus/bench/bundle.json --poll-ms 0 --action sagemaker:CreatePresignedDomainUrl \
      --resource arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123/alice \
      --principal arn:aws:iam::111122223333:role/DataSci --vpc-id vpc-0shared00000000001 \
      --context aws:ViaAWSService=false --trusted-endpoint-header x-vpce > "$tmp/out" 2> "$tmp/err" &
  else
    IAMGATE_LATENCY_BARE_UPSTREAM=127.0.0.1:9101 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
      "$bare_bin" --exact added_latency_on_loopback --ignored --nocapture > "$tmp/out" 2> "$tmp/err" &
  fi
  local pid=$!
  for _ in $(seq 100); do grep -q "listening on" "$tmp/out" && break; sleep 0.2; done
  local port
  port=$(grep -oP 'listening on 127\.0\.0\.1:\K[0-9]+' "$tmp/out")
  python3 examples/proxy/cost/client.py "$port" 127.0.0.1:9101 "$n" >&2
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null || true
  grep -oP 'Collected : \K[0-9]+' "$tmp/err"
}
for what in proxy bare; do
  a=$(run $what "$N")
  b=$(run $what $((2 * N)))
  echo "$what: $(( (b - a) / N )) instructions per request"
done
