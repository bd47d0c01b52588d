// Bundle the playground into dist/: the examples of corpus/ (embedded), the wasm package of ../pkg (the .wasm
// embedded as bytes, so the page also works opened from disk), CodeMirror; one classic script, no request after
// load.
import * as esbuild from "esbuild";
import { readFileSync, readdirSync, writeFileSync, mkdirSync, copyFileSync, rmSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const corpus = join(here, "../../corpus");
const read = (...p) => readFileSync(join(corpus, ...p), "utf8");
const json = (dir) => readdirSync(join(corpus, dir)).filter((f) => f.endsWith(".json")).sort();

// The network presets, the policies the presign cases use, the feeds the networks name, and the cases.
const networks = Object.fromEntries(json("networks").map((f) => [f.replace(/\.json$/, ""), read("networks", f)]));
const policies = Object.fromEntries(json("policies").map((f) => [f, read("policies", f)]));
const feeds = Object.fromEntries(json("networks/feeds").map((f) => [`feeds/${f}`, read("networks/feeds", f)]));
const examples = json("presign").map((f) => {
  const c = JSON.parse(read("presign", f));
  return {
    name: f.replace(/\.json$/, ""),
    description: c.description,
    identity: c.policies ?? [],
    boundary: c.boundary ?? null,
    session: c.session_policies ?? [],
    scps: c.scps ?? [],
    network: c.network.replace(/\.json$/, ""),
    verdict: c.expect?.verdict ?? null,
  };
});
writeFileSync(join(here, "src/examples.json"), JSON.stringify({ networks, policies, feeds, examples }));

rmSync(join(here, "dist"), { recursive: true, force: true });
mkdirSync(join(here, "dist"));
await esbuild.build({
  entryPoints: [join(here, "src/main.js")],
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2022",
  outfile: join(here, "dist/app.js"),
  loader: { ".wasm": "binary" },
  external: ["node:fs/promises"],
  logLevel: "warning",
  logOverride: { "empty-import-meta": "silent" },
  legalComments: "none",
});
copyFileSync(join(here, "src/index.html"), join(here, "dist/index.html"));
copyFileSync(join(here, "src/style.css"), join(here, "dist/style.css"));
