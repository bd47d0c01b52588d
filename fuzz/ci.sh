#!/usr/bin/env bash
# Fuzz CI: build every target, seed from corpus/, run each for FUZZ_SECONDS (default 30) and fail on any crash,
# panic, timeout or out-of-memory. Idempotent: installs nightly and cargo-fuzz only when they are missing.
#
#   fuzz/ci.sh                      # every target, 30 s each
#   FUZZ_SECONDS=300 fuzz/ci.sh decide_differential
#
# Crashes land in fuzz/artifacts/<target>/; minimize them with
#   cargo +nightly fuzz tmin -O -a <target> fuzz/artifacts/<target>/<crash>
# and add them to fuzz/regressions/<target>/ (replayed by tests/it/regressions.rs; see docs/fuzzing.md).
set -euo pipefail
cd "$(dirname "$0")"
FUZZ="$PWD"
ROOT="$(cd .. && pwd)"
SECONDS_EACH="${FUZZ_SECONDS:-30}"

echo "== fuzz toolchain"
if ! rustup toolchain list | grep -q '^nightly'; then
  rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  # Not --locked: the crates.io mirror can lag one patch release behind cargo-fuzz's lockfile (TOOLCHAIN.md).
  cargo install cargo-fuzz
fi
cargo fuzz --version

ALL_TARGETS=$(cargo fuzz list)
TARGETS="${*:-$ALL_TARGETS}"

echo "== build"
# -O: optimised; -a: debug assertions and overflow checks on, so that an arithmetic overflow is a crash.
cargo +nightly fuzz build -O -a

echo "== seeds from corpus/"
# Policies (every policy object of every case, and corpus/policies if present) for the byte-level policy
# targets; whole cases, one per line, for batch_json. Seeds are rebuilt each run and never committed.
if ! command -v python3 >/dev/null 2>&1; then
  echo "python3 not found: running without seeds"
else
python3 - "$ROOT" "$FUZZ/corpus" <<'PY'
import hashlib, json, pathlib, sys
root, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
def put(target, text):
    d = out / target
    d.mkdir(parents=True, exist_ok=True)
    data = text.encode()
    (d / ("seed-" + hashlib.sha1(data).hexdigest()[:16])).write_bytes(data)
policies = []
cases = sorted((root / "corpus" / "cases").rglob("*.json"))
for f in cases:
    c = json.loads(f.read_text())
    put("batch_json", json.dumps(c, separators=(",", ":")))
    put("parse_agrees_with_serde", f.read_text())
    for k in ("identity_policies", "session_policies"):
        policies += c.get(k, [])
    for k in ("resource_policy", "permissions_boundary", "endpoint_policy"):
        if k in c:
            policies.append(c[k])
    for k in ("scps", "rcps"):
        for level in c.get(k, []):
            policies += level
for f in sorted((root / "corpus" / "networks").glob("*.json")):
    put("network_no_panic", f.read_text())
pol_dir = root / "corpus" / "policies"
if pol_dir.is_dir():
    policies += [f.read_text() for f in sorted(pol_dir.rglob("*.json"))]
for p in policies:
    text = p if isinstance(p, str) else json.dumps(p, indent=2)
    for t in ("parse_no_panic", "policy_roundtrip", "parse_agrees_with_serde"):
        put(t, text)
print(f"{len(cases)} cases, {len(policies)} policies, networks from corpus/networks")
PY
fi

echo "== run (${SECONDS_EACH}s each)"
failed=()
for t in $TARGETS; do
  mkdir -p "corpus/$t"
  echo "-- $t"
  log="$FUZZ/artifacts/$t.log"
  mkdir -p "$FUZZ/artifacts"
  # Structured targets decode their input with `arbitrary`: let inputs be large from the start, so that cases
  # with several policies and conditions come early rather than after minutes of length growth.
  extra=()
  case "$t" in
    decide_differential | reach_agrees_with_decide) extra=(-max_len=4096 -len_control=0) ;;
  esac
  set +e
  cargo +nightly fuzz run -O -a "$t" "corpus/$t" -- \
    -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -dict="$FUZZ/iam.dict" \
    -print_final_stats=1 "${extra[@]}" >"$log" 2>&1
  rc=$?
  set -e
  grep -E "^(stat::number_of_executed_units|stat::new_units_added|Done )|^#[0-9]+ +DONE" "$log" || true
  if [ "$rc" -ne 0 ]; then
    failed+=("$t")
    tail -n 40 "$log"
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]} (artifacts in fuzz/artifacts/)"
  exit 1
fi
echo "fuzz: all targets clean"
