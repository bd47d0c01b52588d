// Decide every case of cases.jsonl with iam-simulate (runSimulation, Strict mode) and time it.
// Usage: node simulate.mjs cases.jsonl decisions.jsonl > timing.json
// The timed part is runSimulation alone; the Simulation objects are built beforehand. runSimulation validates
// and parses the policies on every call: that is its API (there is no compile-once form).

import { runSimulation } from '@cloud-copilot/iam-simulate'
import { readFileSync, writeFileSync } from 'node:fs'

const [casesPath, outPath] = process.argv.slice(2)
const cases = readFileSync(casesPath, 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l))

const accountOf = (arn) => arn.split(':')[4] || '111122223333'
const simulations = cases.map((c) => ({
  id: c.id,
  sim: {
    identityPolicies: (c.identity_policies ?? []).map((policy, i) => ({ name: `identity${i}`, policy })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    request: {
      principal: c.request.principal,
      action: c.request.action,
      resource: { resource: c.request.resource, accountId: accountOf(c.request.resource) },
      contextVariables: Object.fromEntries(
        Object.entries(c.request.context ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v.map(String) : String(v)])
      ),
    },
  },
}))

const normalise = (r) => {
  if (r.resultType === 'error') return `Error: ${r.errors?.message ?? 'invalid simulation'}`
  return { Allowed: 'Allow', ExplicitlyDenied: 'ExplicitDeny', ImplicitlyDenied: 'ImplicitDeny' }[r.overallResult] ?? `Error: ${r.overallResult}`
}

// Warm-up (JIT, module caches) on the first 100 cases, not timed.
if (!process.env.COMPARE_NO_TIMING) for (const s of simulations.slice(0, 100)) await runSimulation(s.sim, { simulationMode: 'Strict' })

const out = []
const start = process.hrtime.bigint()
for (const s of simulations) {
  const r = await runSimulation(s.sim, { simulationMode: 'Strict' })
  out.push({ id: s.id, decision: normalise(r) })
}
const ns = Number(process.hrtime.bigint() - start)
writeFileSync(outPath, out.map((o) => JSON.stringify(o)).join('\n') + '\n')
process.stdout.write(
  JSON.stringify({ tool: 'iam-simulate', cases: out.length, ns_per_decision: ns / out.length, ns_per_case_end_to_end: ns / out.length }) + '\n'
)
