// Decide from JavaScript on a held compiled set, through the npm package (wasm/pkg), on the corpus/bench/ bundle:
// the same calls as benches/api.rs natively. Usage: node wasm/bench.mjs (after wasm/build.sh).
//
// A/B: `node wasm/bench.mjs DIR_A DIR_B ...` loads each package directory (each with its own iamgate.js,
// iamgate_wasm_bg.js and .wasm, e.g. a copy of wasm/pkg from another commit) in this one process and interleaves
// their rounds, so that the machine's load falls on all of them alike.
import { readFileSync } from "node:fs";
import { join, dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { benchPolicies } from "./bench-policies.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const dirs = process.argv.length > 2 ? process.argv.slice(2).map((d) => resolve(d)) : [join(here, "pkg")];
const policies = benchPolicies();
const base = { principal: "arn:aws:iam::111122223333:role/DataSci", action: "sagemaker:CreatePresignedDomainUrl", resource: "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123/alice" };
const viaEndpoint = { ...base, context: { "aws:SourceVpce": "vpce-0api0000000000001", "aws:SourceVpc": "vpc-0shared00000000001", "aws:VpcSourceIp": "10.20.1.5", "aws:ViaAWSService": false } };
const pub = { ...base, context: { "aws:SourceIp": "165.225.10.1", "aws:ViaAWSService": false } };
const viaText = JSON.stringify(viaEndpoint);
const pubText = JSON.stringify(pub);

// A sweep over addresses: each call's address differs from the last one's (4,096 of them, all in the ranges that
// decide alike), so decideFast sends that field on every call.
const sweep = (r, key, prefix) =>
  Array.from({ length: 4096 }, (_, i) => ({ ...r, context: { ...r.context, [key]: `${prefix}.${i >> 8}.${i & 255}` } }));
const viaSweep = sweep(viaEndpoint, "aws:VpcSourceIp", "10.20"); // in 10.20.0.0/16
const pubSweep = sweep(pub, "aws:SourceIp", "165.225"); // in 165.225.0.0/16

const sets = [];
const modules = [];
for (const dir of dirs) {
  const { load } = await import(pathToFileURL(join(dir, "iamgate.js")).href);
  const iamgate = await load(readFileSync(join(dir, "iamgate_wasm_bg.wasm")));
  sets.push(iamgate.compile(policies).set);
  modules.push(iamgate);
}

// Each package gets its own copy of each timed loop (a fresh function per package), so that V8's type feedback
// at the call sites stays monomorphic: with one shared loop, A/B runs slow down both sides.
const loop = (call, set, arg, g) =>
  new Function("set", "arg", "g", "n", `let r; for (let k = 0; k < n; k++) r = ${call}; return r;`).bind(null, set, arg, g);
const benches = [
  ["decideJson via_endpoint (text in, text out)", "set.decideJson(arg)", viaText, '"Allow"'],
  ["decideJson public", "set.decideJson(arg)", pubText, '"ExplicitDeny"'],
  ["decide via_endpoint (object in, object out)", "JSON.stringify(set.decide(arg).decision)", viaEndpoint, "Allow"],
  ["decideFast via_endpoint (fields, no JSON)", "set.decideFast(arg)", viaEndpoint, "Allow"],
  ["decideFast public", "set.decideFast(arg)", pub, "ExplicitDeny"],
  ["decideFast via_endpoint, a new address each call", "set.decideFast(arg[k & 4095])", viaSweep, "Allow"],
  ["decideFast public, a new address each call", "set.decideFast(arg[k & 4095])", pubSweep, "ExplicitDeny"],
  // Every field sent on every call, as for a caller whose fields all change (a package without forgetFields
  // sends every field anyway).
  ["decideFast via_endpoint, every field sent", "(g.forgetFields?.(), set.decideFast(arg))", viaEndpoint, "Allow"],
  ["explain via_endpoint", "JSON.stringify(set.explain(arg).decision)", viaEndpoint, "Allow"],
];

const us = (ns) => (ns / 1000).toFixed(3);
for (const [name, call, arg, expect] of benches) {
  const n = name.startsWith("explain") ? 2000 : 20000;
  const runs = sets.map((set, i) => loop(call, set, arg, modules[i]));
  const rounds = sets.map(() => []);
  for (const run of runs) if (!run(1).includes(expect)) throw new Error(`${name}: expected ${expect}`);
  for (let r = 0; r < 9; r++) {
    runs.forEach((run, i) => {
      const t0 = process.hrtime.bigint();
      run(n);
      rounds[i].push(Number(process.hrtime.bigint() - t0) / n);
    });
  }
  sets.forEach((_, i) => {
    const v = rounds[i].sort((a, b) => a - b);
    const who = sets.length > 1 ? ` [${dirs[i]}]` : "";
    console.log(`wasm ${name}${who}: median ${us(v[4])} us per decision (p10 ${us(v[1])}, p90 ${us(v[7])})`);
  });
}
for (const set of sets) set.free();
