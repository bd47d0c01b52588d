// Node tests of the npm package (wasm/pkg): decisions equal the native CLI's on the corpus, errors are values,
// a panic is reported and the module keeps working. Run by wasm/test.sh after wasm/build.sh.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { execFileSync } from "node:child_process";
import { load } from "../pkg/iamgate.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const corpus = join(root, "corpus");
const cli = process.env.IAMGATE_CLI ?? join(root, "target/release/iamgate");
const iamgate = await load();

function files(dir) {
  return readdirSync(dir)
    .sort()
    .flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? files(p) : f.endsWith(".json") ? [p] : [];
    });
}

test("decisions and reasons equal the native CLI's batch on every corpus case", () => {
  const out = execFileSync(cli, ["batch", "--explain", join(corpus, "cases")], { maxBuffer: 1 << 26, stdio: ["ignore", "pipe", "ignore"] })
    .toString()
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  const byId = new Map(out.map((r) => [r.id, r]));
  let compared = 0;
  for (const f of files(join(corpus, "cases"))) {
    const text = readFileSync(f, "utf8");
    const c = JSON.parse(text);
    const native = byId.get(c.id);
    assert.ok(native, `${f}: no CLI record for ${c.id}`);
    const compiled = iamgate.compile(text); // the case's policies at their exact text
    if (native.error) {
      const failed = compiled.result === "failure" || compiled.set.decide(c.request).result === "failure";
      assert.ok(failed, `${f}: the CLI failed (${native.error.message}) but the package decided`);
      if (compiled.result === "success") compiled.set.free();
      continue;
    }
    assert.equal(compiled.result, "success", `${f}: ${JSON.stringify(compiled.errors)}`);
    const set = compiled.set;
    const d = set.decide(c.request);
    assert.equal(d.decision, native.decision, f);
    const ex = set.explain(c.request);
    assert.equal(ex.decision, native.decision, f);
    assert.deepEqual(ex.reasons.map(({ place, ...r }) => r), native.reasons, f);
    // Each deciding statement's reason is placed where its trace is.
    assert.deepEqual(ex.reasons.filter((r) => r.place).map((r) => r.place), ex.deciding.map((s) => s.place), f);
    // A batch record also carries what `lint` says of the case's policies (`$.…: lint …`); the explanation
    // carries the decision's own warnings, which must be the rest.
    assert.deepEqual(ex.warnings, native.warnings.filter((w) => !w.includes(": lint ")), f);
    // Every statement and condition as `batch --explain` traces it: the same outcome, values on both sides and
    // span (the package places them in the same policy text, the case's own).
    const traced = (st) => ({
      policy: st.policy, statement: st.statement, applies: st.applies, span: st.span ?? st.place?.span,
      conditions: st.conditions.map((c) => ({
        held: c.held, why: c.why, outcome: c.outcome, values: c.values, request_values: c.request_values, matched_values: c.matched_values,
        span: c.span ?? c.place?.span,
      })),
    });
    assert.deepEqual(ex.statements.map(traced), native.statements.map(traced), f);
    const named = ex.reasons.filter((r) => r.statement !== undefined);
    const found = named.map((r) => ex.statements.find((s) => s.policy === r.policy && s.statement === r.statement));
    assert.deepEqual(ex.deciding.map(traced), found.map(traced), f);
    // The same handle decides again, from JSON text, with the same answer.
    assert.equal(JSON.parse(set.decideJson(JSON.stringify(c.request))).decision, native.decision, f);
    assert.equal(set.decideFast(c.request), native.decision, f);
    set.free();
    compared += 1;
  }
  assert.ok(compared > 300, `only ${compared} cases compared`);
});

test("presign along every network preset equals the CLI's presign --json", () => {
  const policy = join(corpus, "policies/studio-via-endpoints.json");
  const feeds = {};
  for (const f of readdirSync(join(corpus, "networks/feeds")).filter((f) => f.endsWith(".json"))) {
    feeds[`feeds/${f}`] = readFileSync(join(corpus, "networks/feeds", f), "utf8");
  }
  const { set } = iamgate.compile({ identity_policies: [readFileSync(policy, "utf8")] });
  for (const n of readdirSync(join(corpus, "networks")).filter((f) => f.endsWith(".json"))) {
    const path = join(corpus, "networks", n);
    let native;
    try {
      native = execFileSync(cli, ["presign", "--policy", policy, "--network", path, "--json"], { stdio: ["ignore", "pipe", "ignore"] });
    } catch (e) {
      native = e.stdout; // exit 1 for findings or a denied step
    }
    const { result, ...got } = set.presign({ network: readFileSync(path, "utf8"), feeds });
    assert.equal(result, "success", n);
    // The CLI adds `warnings`: lint's notes on the files it read, named by file (the package lints with lint()).
    const { warnings, ...record } = JSON.parse(native.toString());
    assert.ok(Array.isArray(warnings), n);
    assert.deepEqual(got, record, n);
    const reach = set.reach({ network: readFileSync(path, "utf8"), feeds });
    assert.equal(reach.result, "success", n);
    assert.deepEqual(reach.steps.map((s) => s.step), ["create", "use"]);
  }
  set.free();
});

test("lint places a broken policy at its line and UTF-16 column", () => {
  const policy = '{\n  "Version": "2012-10-17",\n  "Statement": [{"Sid": "😀", "Effect": "Alow", "Action": "s3:*", "Resource": "*"}]\n}';
  const a = iamgate.lint(policy, "identity");
  assert.equal(a.result, "success");
  const d = a.diagnostics.find((x) => x.severity === "error");
  assert.equal(d.line, 3);
  // JavaScript counts UTF-16 units: the column is where the string index says.
  const line = policy.split("\n")[2];
  assert.equal(d.column, line.indexOf('"Alow"') + 1);
  assert.equal(d.end_column, line.indexOf('"Alow"') + 7);
  const bytes = Buffer.from(policy);
  assert.equal(bytes.subarray(d.span.start, d.span.end).toString(), '"Alow"');
  assert.equal(iamgate.lint("{", "identity").diagnostics[0].code, "invalid-json");
  assert.equal(iamgate.lint("{}", "role").result, "failure");
});

test("errors are values: bad input, a freed set, and a panic are failures, and the module keeps working", () => {
  assert.equal(iamgate.compile("not json").result, "failure");
  const bad = iamgate.compile({ identity_policies: ['{"Statement": [{"Effect": "Allow"}]}'] });
  assert.equal(bad.result, "failure");
  assert.equal(bad.errors[0].policy, "identity[0]");
  assert.ok(bad.errors[0].line >= 1);
  const { set } = iamgate.compile({ identity_policies: ['{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}'] });
  for (const garbage of ["", "[", "{}", '{"action": 3}', "\u0000"]) {
    assert.equal(set.decide(garbage).result, "failure", garbage);
    assert.equal(set.explain(garbage).result, "failure", garbage);
    assert.equal(set.presign(garbage).result, "failure", garbage);
    assert.equal(set.reach(garbage).result, "failure", garbage);
  }
  const req = { action: "s3:GetObject", resource: "arn:aws:s3:::b/k" };
  assert.equal(set.decide(req).decision, "Allow");
  set.free();
  assert.deepEqual(set.decide(req).errors.map((e) => e.code), ["freed"]);
  set.free(); // twice is harmless

  // wasm/build.sh notes which build pkg/ holds: the stable one keeps a panic's message, the nightly one (panics
  // abort at once) does not, and the failure says so.
  const toolchain = readFileSync(new URL("../target/toolchain", import.meta.url), "utf8").trim();
  assert.equal(iamgate.panicMessages, toolchain === "stable", toolchain);
  const p = iamgate.panicForTests();
  assert.equal(p.result, "failure");
  assert.equal(p.errors[0].code, "panic");
  if (toolchain === "stable") {
    assert.match(p.errors[0].message, /^internal error: panicked at .*: a deliberate panic, for tests$/);
  } else {
    assert.equal(p.errors[0].message, "internal error: a panic (unreachable); this build keeps no panic message");
  }
  assert.equal(iamgate.panics, 1);
  const again = iamgate.compile({ identity_policies: ['{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}'] });
  assert.equal(again.set.decide(req).decision, "ExplicitDeny");
  again.set.free();
  assert.equal(typeof iamgate.version, "string");
});

test("decideFast passes non-ASCII and long fields as UTF-8, and keeps deciding as the keys change", () => {
  const policy = JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*", Condition: { StringEquals: { "aws:PrincipalTag/team": "équipe-𝔸" } } }],
  });
  const { set } = iamgate.compile({ identity_policies: [policy] });
  const req = (context) => ({ action: "s3:GetObject", resource: "arn:aws:s3:::b/k", context });
  assert.equal(set.decideFast(req({ "aws:PrincipalTag/team": "équipe-𝔸" })), "Allow");
  assert.equal(set.decideFast(req({ "aws:PrincipalTag/team": "equipe-𝔸" })), "ImplicitDeny");
  // Longer than the first buffer (1,024 bytes), then short again: the buffer grows and is reused.
  const long = "é".repeat(3000);
  assert.equal(set.decideFast(req({ "aws:SourceVpc": long, "aws:PrincipalTag/team": "équipe-𝔸" })), "Allow");
  assert.equal(set.decideFast(req({ "aws:PrincipalTag/team": long })), "ImplicitDeny");
  // Keys in another order, or other keys, than the first call's: the same decisions as the JSON path.
  for (const ctx of [{ "aws:SourceIp": "10.0.0.1", "aws:PrincipalTag/team": "équipe-𝔸" }, {}, { "aws:PrincipalTag/team": "x" }]) {
    assert.equal(set.decideFast(req(ctx)), set.decide(req(ctx)).decision);
  }
  set.free();
});

test("decideFast sends only the fields that changed and decides as decide() on every call of a long sequence", () => {
  // Two sets decided in turn (the fields held are shared by all sets), fields that repeat, change, grow past the
  // short path (32 units), carry non-ASCII text and lone surrogates; refused values, lists (the JSON path) and a
  // growth of the module's memory (which detaches the package's views of it) in between.
  const allow = (cond) => JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "*", Condition: cond }] });
  const long = "team-" + "x".repeat(40);
  const a = iamgate.compile({
    identity_policies: [allow({ IpAddress: { "aws:SourceIp": "10.0.0.0/8" }, StringEquals: { "aws:PrincipalTag/team": ["équipe-𝔸", "x", long] } })],
  }).set;
  const b = iamgate.compile({
    identity_policies: [
      allow({ StringNotLike: { "aws:PrincipalTag/team": "*𝔸*" } }),
      JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Deny", Action: "s3:PutObject", Resource: "*", Condition: { StringEquals: { "aws:SourceVpc": "vpc-2" } } }] }),
    ],
    permissions_boundary: allow({ StringEqualsIfExists: { "aws:SourceVpc": ["vpc-1", "vpc-é"] } }),
  }).set;
  let seed = 12345;
  const next = (n) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return Math.floor(seed / 65536) % n; // the high bits: the low ones of this generator repeat quickly
  };
  const pick = (xs) => xs[next(xs.length)];
  const teams = ["équipe-𝔸", "x", "y", long, long + "é", "\ud800", "𝔸", ""];
  const counts = { Allow: 0, ExplicitDeny: 0, ImplicitDeny: 0, failure: 0 };
  for (let k = 0; k < 3000; k++) {
    const ctx = {};
    const keys = ["aws:SourceIp", "aws:PrincipalTag/team", "aws:SourceVpc"].filter(() => next(4) > 0);
    if (next(2)) keys.reverse();
    for (const key of keys) {
      if (key === "aws:SourceIp") ctx[key] = next(20) === 0 ? "not-an-address" : `${pick(["10", "192"])}.${next(256)}.${next(3)}.1`;
      else if (key === "aws:SourceVpc") ctx[key] = next(30) === 0 ? ["vpc-1"] : pick(["vpc-1", "vpc-é", "vpc-2"]);
      else ctx[key] = pick(teams);
    }
    const req = {
      principal: pick([undefined, "arn:aws:iam::111122223333:role/R", "arn:aws:iam::111122223333:role/Ré"]),
      action: pick(["s3:GetObject", "s3:PutObject"]),
      resource: pick(["arn:aws:s3:::b/k", "arn:aws:s3:::b/" + "k".repeat(40)]),
      context: ctx,
    };
    const set = next(3) ? a : b;
    const want = set.decide(req);
    const got = set.decideFast(req);
    if (want.result === "failure") {
      assert.equal(got.result, "failure", JSON.stringify(req));
      counts.failure += 1;
    } else {
      assert.equal(got, want.decision, JSON.stringify(req));
      counts[got] += 1;
    }
    if (k % 500 === 250) iamgate.forgetFields();
    if (k === 1000) iamgate.lint("[" + " ".repeat(8 << 20) + "]"); // 8 MB through the module: its memory grows
  }
  // The sequence exercises every outcome.
  for (const [what, n] of Object.entries(counts)) assert.ok(n > 30, `${what}: ${n}`);
  a.free();
  b.free();
});
