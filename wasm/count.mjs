// Instructions per decideFast (benches/README.md, "fourth pass"): compile the corpus/bench/ bundle and call
// decideFast N times through the endpoint. Run under callgrind for two values of N; the difference over the
// difference in N is the count per call:
//   valgrind --tool=callgrind --smc-check=all --callgrind-out-file=/dev/null \
//     node --single-threaded --no-liftoff wasm/count.mjs wasm/pkg N MODE
// MODE: fixed (the same request every call), sweep (a new address each call, 256 of them), fresh (every field
// sent on every call: forgetFields() before each).
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { benchPolicies } from "./bench-policies.mjs";

const [dir = "wasm/pkg", nArg = "20000", mode = "fixed"] = process.argv.slice(2);
const policies = benchPolicies();
const { load } = await import(pathToFileURL(join(resolve(dir), "iamgate.js")).href);
const iamgate = await load(readFileSync(join(resolve(dir), "iamgate_wasm_bg.wasm")));
const set = iamgate.compile(policies).set;
const base = {
  principal: "arn:aws:iam::111122223333:role/DataSci",
  action: "sagemaker:CreatePresignedDomainUrl",
  resource: "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123/alice",
};
const reqs = [];
for (let i = 0; i < 256; i++) {
  const ip = mode === "sweep" ? `10.20.${i}.${(i * 7) & 255}` : "10.20.1.5";
  reqs.push({ ...base, context: { "aws:SourceVpce": "vpce-0api0000000000001", "aws:SourceVpc": "vpc-0shared00000000001", "aws:VpcSourceIp": ip, "aws:ViaAWSService": false } });
}
const n = Number(nArg);
let r;
if (mode === "fresh") {
  for (let k = 0; k < n; k++) {
    iamgate.forgetFields?.();
    r = set.decideFast(reqs[k & 255]);
  }
} else {
  for (let k = 0; k < n; k++) r = set.decideFast(reqs[k & 255]);
}
if (r !== "Allow") throw new Error(`expected Allow, got ${JSON.stringify(r)}`);
set.free();
