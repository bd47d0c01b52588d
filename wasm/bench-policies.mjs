// The corpus/bench/ bundle as `compile` input (identity, boundary, two SCP levels, endpoint policy): the set
// wasm/bench.mjs times and wasm/count.mjs counts, the same as benches/api.rs's natively.
import { readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

export function benchPolicies() {
  const root = join(dirname(fileURLToPath(import.meta.url)), "..");
  const f = (n) => readFileSync(join(root, "corpus/bench", n), "utf8");
  return {
    identity_policies: [f("identity.json")],
    permissions_boundary: f("boundary.json"),
    scps: [[f("scp-full-access.json")], [f("scp-full-access.json"), f("scp-ou-deny-public.json")]],
    endpoint_policy: f("endpoint.json"),
  };
}
