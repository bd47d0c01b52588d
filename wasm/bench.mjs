// Decide from JavaScript on a held compiled set, through the npm package (wasm/pkg), on the corpus/bench/ bundle:
// the same calls as benches/api.rs natively. Usage: node wasm/bench.mjs (after wasm/build.sh).
import { readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { load } from "./pkg/iamgate.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const f = (n) => readFileSync(join(root, "corpus/bench", n), "utf8");
const iamgate = await load();
const { set } = iamgate.compile({
  identity_policies: [f("identity.json")],
  permissions_boundary: f("boundary.json"),
  scps: [[f("scp-full-access.json")], [f("scp-full-access.json"), f("scp-ou-deny-public.json")]],
  endpoint_policy: f("endpoint.json"),
});
const base = { principal: "arn:aws:iam::111122223333:role/DataSci", action: "sagemaker:CreatePresignedDomainUrl", resource: "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123/alice" };
const viaEndpoint = { ...base, context: { "aws:SourceVpce": "vpce-0api0000000000001", "aws:SourceVpc": "vpc-0shared00000000001", "aws:VpcSourceIp": "10.20.1.5", "aws:ViaAWSService": false } };
const pub = { ...base, context: { "aws:SourceIp": "165.225.10.1", "aws:ViaAWSService": false } };

function measure(name, fn, expect) {
  if (!fn().includes(expect)) throw new Error(`${name}: expected ${expect}`);
  const n = 20000;
  const rounds = [];
  for (let r = 0; r < 7; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn();
    rounds.push(Number(process.hrtime.bigint() - t0) / n);
  }
  rounds.sort((a, b) => a - b);
  console.log(`${name}: median ${(rounds[3] / 1000).toFixed(3)} us per decision (${rounds.map((x) => (x / 1000).toFixed(2)).join(" ")})`);
}

const viaText = JSON.stringify(viaEndpoint);
const pubText = JSON.stringify(pub);
measure("wasm decideJson via_endpoint (text in, text out)", () => set.decideJson(viaText), '"Allow"');
measure("wasm decideJson public", () => set.decideJson(pubText), '"ExplicitDeny"');
measure("wasm decide via_endpoint (object in, object out)", () => JSON.stringify(set.decide(viaEndpoint).decision), "Allow");
measure("wasm decideFast via_endpoint (fields, no JSON)", () => set.decideFast(viaEndpoint), "Allow");
measure("wasm decideFast public", () => set.decideFast(pub), "ExplicitDeny");
measure("wasm explain via_endpoint", () => JSON.stringify(set.explain(viaEndpoint).decision), "Allow");
set.free();
