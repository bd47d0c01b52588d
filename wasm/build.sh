#!/usr/bin/env bash
# Build the npm package (wasm/pkg/) and the playground (wasm/playground/dist/). Idempotent: installs only what is
# missing (the wasm32 target, wasm-bindgen-cli at the exact version of the wasm-bindgen crate in wasm/Cargo.lock,
# the playground's npm packages, which bring esbuild and binaryen's wasm-opt), then prints the sizes.
set -euo pipefail
cd "$(dirname "$0")"
here=$(pwd)

step() { echo "== wasm: $*"; }

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  step "installing Node.js and npm from Debian"
  apt-get update -qq && apt-get install -y -qq nodejs npm
fi
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# The wasm-bindgen CLI must be exactly the crate's version (the glue and the module must agree).
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)
if [ "$have" != "$want" ]; then
  step "installing wasm-bindgen-cli $want (found: ${have:-none})"
  # Not --locked: the crates.io mirror can lag a patch release behind a lockfile.
  cargo install wasm-bindgen-cli --version "$want"
fi

# npm packages: installed again only when package-lock.json changed since the last install.
if [ ! -f playground/node_modules/.package-lock.json ] ||
  [ playground/package-lock.json -nt playground/node_modules/.package-lock.json ]; then
  step "installing the playground's npm packages"
  (cd playground && npm ci --no-audit --no-fund)
fi
wasm_opt="$here/playground/node_modules/.bin/wasm-opt" # binaryen from npm; never Debian's (it breaks Rust 1.95 modules)

# The toolchain: nightly when it has (or can get) rust-src, stable otherwise; IAMGATE_WASM_TOOLCHAIN=stable|nightly chooses.
# Nightly builds the standard library for the module itself (-Z build-std, optimised for size) with panics that
# abort at once (-C panic=immediate-abort): 41 KB smaller (15 KB gzipped), but a panic then traps with no message
# (the wrapper still answers it as a failure, code "panic"). The stable build keeps the message (README.md).
toolchain=${IAMGATE_WASM_TOOLCHAIN:-auto}
if [ "$toolchain" = auto ]; then
  toolchain=stable
  # A nightly without rust-src gets it (skipped when it is there; when rustup cannot fetch it, stable is built).
  if rustc +nightly -V >/dev/null 2>&1 &&
    ! rustup +nightly component list --installed 2>/dev/null | grep -q '^rust-src'; then
    step "adding rust-src to the nightly toolchain"
    rustup component add rust-src --toolchain nightly >/dev/null 2>&1 || echo "wasm/build.sh: could not add rust-src: building on stable" >&2
  fi
  if rustup +nightly component list --installed 2>/dev/null | grep -q '^rust-src'; then toolchain=nightly; fi
fi
case "$toolchain" in
  stable)
    step "cargo build --target wasm32-unknown-unknown --release (stable)"
    cargo build --target wasm32-unknown-unknown --release --quiet
    built=target/wasm32-unknown-unknown/release/iamgate_wasm.wasm
    ;;
  nightly)
    step "cargo +nightly build --target wasm32-unknown-unknown --release -Z build-std (nightly: $(rustc +nightly -V))"
    # Its own target directory: the stable build's stays warm beside it. `core` at opt-level 3, as in the standard
    # library rustup ships: at "z" or "s", explain takes twice as long (benches/README.md, "Size, sixth pass").
    RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none" CARGO_TARGET_DIR=target/nightly \
      cargo +nightly build --target wasm32-unknown-unknown --release --quiet \
      -Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size \
      --config 'profile.release.package.core.opt-level = 3'
    built=target/nightly/wasm32-unknown-unknown/release/iamgate_wasm.wasm
    ;;
  *)
    echo "wasm/build.sh: IAMGATE_WASM_TOOLCHAIN is stable, nightly or auto, not $toolchain" >&2
    exit 2
    ;;
esac

step "wasm-bindgen $want"
rm -rf target/bindgen && mkdir -p target/bindgen
wasm-bindgen --target bundler --out-dir target/bindgen "$built"

step "wasm-opt --flatten --rereloop -Oz -ocimfs 20 -Oz ($("$wasm_opt" --version))"
rm -rf pkg && mkdir -p pkg
# One-caller functions inlined only up to 20 bytes (-ocimfs 20; binaryen inlines any size by default), after
# --flatten --rereloop: a little larger raw, 16 KB smaller gzipped (benches/README.md, "Size, sixth pass").
"$wasm_opt" --flatten --rereloop -Oz -ocimfs 20 -Oz --strip-debug --strip-producers \
  --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-reference-types \
  --enable-multivalue --enable-mutable-globals \
  target/bindgen/iamgate_wasm_bg.wasm -o pkg/iamgate_wasm_bg.wasm

step "npm package in wasm/pkg"
cp target/bindgen/iamgate_wasm_bg.js js/iamgate.js js/iamgate.d.ts pkg/
version=$(awk -F'"' '/^version = / { print $2; exit }' Cargo.toml)
cat > pkg/package.json <<JSON
{
  "name": "iamgate",
  "version": "$version",
  "description": "Exact AWS IAM decisions for SageMaker Studio presigned URLs along real network paths, in WebAssembly",
  "license": "Apache-2.0",
  "type": "module",
  "main": "./iamgate.js",
  "types": "./iamgate.d.ts",
  "exports": { ".": { "types": "./iamgate.d.ts", "default": "./iamgate.js" } },
  "files": ["iamgate.js", "iamgate.d.ts", "iamgate_wasm_bg.js", "iamgate_wasm_bg.wasm"],
  "sideEffects": false
}
JSON

step "playground in wasm/playground/dist"
(cd playground && node build.mjs)

raw=$(wc -c < pkg/iamgate_wasm_bg.wasm)
gz=$(gzip -9 -c pkg/iamgate_wasm_bg.wasm | wc -c)
page=0
for f in playground/dist/*; do page=$((page + $(gzip -9 -c "$f" | wc -c))); done
echo "$toolchain" > target/toolchain # which build pkg/ holds (wasm/test.sh reads it)
echo "sizes ($toolchain): iamgate_wasm_bg.wasm $raw bytes, $gz gzipped; playground page $page bytes gzipped (all of dist/)"
