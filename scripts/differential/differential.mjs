// Differential testing of iamgate against @cloud-copilot/iam-simulate (AGPL-3.0: this script runs the package
// from node_modules, and nothing of it is copied here).
//
//   node differential.mjs --n 2000 --seed 1 --iamgate ../../target/release/iamgate --out out
//
// 1. Generates N deterministic random cases (identity policies with String, IP, Bool, Null, IfExists,
//    ForAnyValue/ForAllValues, NotAction/NotResource, Allow/Deny; a request with a context).
// 2. Decides them with `iamgate batch` (one process, JSONL in and out) and with iam-simulate's
//    `runSimulation(sim, {simulationMode: 'Strict'})`.
// 3. Shrinks every disagreement (drops policies, statements, conditions, values and context keys while the two
//    still disagree), then groups the shrunk cases into classes by what is left.
//
// Writes out/cases.jsonl, out/disagreements.jsonl (original and shrunk case, both answers, class) and
// out/summary.json, and prints the classes. Exit status 0 whatever the disagreements: they are adjudicated in
// docs/divergences.md, not failed on.

import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runSimulation } from '@cloud-copilot/iam-simulate'

// ------------------------------------------------------------------------------------------------------------
// Arguments

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), [])
)
const N = Number(args.n ?? 2000)
const SEED = Number(args.seed ?? 1)
const IAMGATE = args.iamgate
const OUT = args.out ?? 'out'
if (!IAMGATE) {
  console.error('usage: node differential.mjs --iamgate PATH [--n N] [--seed S] [--out DIR]')
  process.exit(2)
}

// ------------------------------------------------------------------------------------------------------------
// Deterministic randomness (mulberry32)

function rng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

// ------------------------------------------------------------------------------------------------------------
// The world: one principal, real actions with resources of the right type (iam-simulate validates both)

const ACCOUNT = '111122223333'
const PRINCIPAL = `arn:aws:iam::${ACCOUNT}:role/DataSci`
const REQUESTS = [
  ['sagemaker:CreatePresignedDomainUrl', `arn:aws:sagemaker:eu-west-1:${ACCOUNT}:user-profile/d-abc123/alice`],
  ['sagemaker:DescribeUserProfile', `arn:aws:sagemaker:eu-west-1:${ACCOUNT}:user-profile/d-abc123/bob`],
  ['s3:GetObject', 'arn:aws:s3:::corp-bucket/reports/q1.csv'],
  ['kms:Decrypt', `arn:aws:kms:eu-west-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`]
]
const ACTION_PATTERNS = [
  'sagemaker:CreatePresignedDomainUrl',
  'sagemaker:*',
  'sagemaker:Describe*',
  'sagemaker:CreatePresigned*',
  's3:GetObject',
  's3:Get*',
  'kms:*',
  '*'
]
const RESOURCE_PATTERNS = [
  '*',
  `arn:aws:sagemaker:eu-west-1:${ACCOUNT}:user-profile/d-abc123/*`,
  `arn:aws:sagemaker:*:${ACCOUNT}:user-profile/*/alice`,
  'arn:aws:s3:::corp-bucket/*',
  'arn:aws:s3:::corp-bucket/reports/q?.csv',
  `arn:aws:kms:eu-west-1:${ACCOUNT}:key/*`
]

const DEFAULT_KEY_POLICY = {
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'EnableIAMUserPermissions',
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
      Action: 'kms:*',
      Resource: '*'
    }
  ]
}

// Condition keys with the values a request may carry, and the values policies test them against.
const KEYS = {
  'aws:SourceIp': {
    type: 'ip',
    request: ['203.0.113.5', '198.51.100.7', '165.225.3.4', '2001:db8::1', '10.1.2.3'],
    policy: ['203.0.113.0/24', '198.51.100.7', '198.51.100.7/32', '0.0.0.0/0', '::/0', '2001:db8::/32', '165.225.0.0/17', '10.0.0.0/8', '203.0.113.77/24']
  },
  'aws:VpcSourceIp': {
    type: 'ip',
    request: ['10.20.1.5', '10.99.0.1', '172.16.0.9'],
    policy: ['10.20.0.0/16', '10.0.0.0/8', '0.0.0.0/0', '172.16.0.0/12']
  },
  'aws:SourceVpce': {
    type: 'string',
    request: ['vpce-0api0000000000001', 'vpce-0studio000000002', 'vpce-0other00000000003'],
    policy: ['vpce-0api0000000000001', 'vpce-0studio000000002', 'vpce-0api*', 'vpce-*', 'VPCE-0API0000000000001']
  },
  'aws:SourceVpc': {
    type: 'string',
    request: ['vpc-0shared00000000001', 'vpc-0elsewhere0000009'],
    policy: ['vpc-0shared00000000001', 'vpc-0*', 'VPC-0SHARED00000000001']
  },
  'aws:PrincipalTag/team': {
    type: 'string',
    request: ['data-science', 'Data-Science', 'finance', ''],
    policy: ['data-science', 'data-*', 'DATA-SCIENCE', 'finance', '*', '']
  },
  'aws:ViaAWSService': { type: 'bool', request: ['true', 'false'], policy: ['true', 'false'] },
  'aws:SecureTransport': { type: 'bool', request: ['true', 'false'], policy: ['true', 'false'] },
  'aws:CalledVia': {
    type: 'list',
    request: [['athena.amazonaws.com'], ['athena.amazonaws.com', 'sagemaker.amazonaws.com'], ['sagemaker.amazonaws.com'], []],
    policy: ['athena.amazonaws.com', 'sagemaker.amazonaws.com', '*.amazonaws.com', 'glue.amazonaws.com']
  }
}

const OPERATORS = {
  string: ['StringEquals', 'StringNotEquals', 'StringLike', 'StringNotLike', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase'],
  ip: ['IpAddress', 'NotIpAddress'],
  bool: ['Bool'],
  list: ['StringEquals', 'StringLike', 'StringNotEquals', 'StringNotLike']
}

function generateCase(r, id) {
  const pick = (xs) => xs[Math.floor(r() * xs.length)]
  const some = (xs, lo, hi) => {
    const n = lo + Math.floor(r() * (hi - lo + 1))
    const out = []
    for (let i = 0; i < n; i++) {
      const x = pick(xs)
      if (!out.includes(x)) out.push(x)
    }
    return out
  }
  const keyNames = Object.keys(KEYS)
  const condition = () => {
    const key = pick(keyNames)
    const k = KEYS[key]
    if (r() < 0.12) {
      return [key, 'Null', pick(['true', 'false'])]
    }
    let op = pick(OPERATORS[k.type])
    if (k.type === 'list') {
      op = `${pick(['ForAnyValue:', 'ForAllValues:'])}${op}`
    } else if (r() < 0.1) {
      op = `ForAnyValue:${op}`
    }
    if (r() < 0.3) op += 'IfExists'
    const values = k.type === 'bool' ? pick(k.policy) : some(k.policy, 1, 3)
    return [key, op, values]
  }
  const statement = () => {
    const st = { Effect: r() < 0.35 ? 'Deny' : 'Allow' }
    st[r() < 0.15 ? 'NotAction' : 'Action'] = some(ACTION_PATTERNS, 1, 2)
    st[r() < 0.1 ? 'NotResource' : 'Resource'] = some(RESOURCE_PATTERNS, 1, 2)
    const n = Math.floor(r() * 3)
    if (n > 0) {
      const cond = {}
      for (let i = 0; i < n; i++) {
        const [key, op, v] = condition()
        cond[op] = cond[op] ?? {}
        cond[op][key] = v
      }
      st.Condition = cond
    }
    return st
  }
  const policies = []
  const np = 1 + Math.floor(r() * 2)
  for (let i = 0; i < np; i++) {
    const sts = []
    const ns = 1 + Math.floor(r() * 3)
    for (let j = 0; j < ns; j++) sts.push(statement())
    policies.push({ Version: '2012-10-17', Statement: sts })
  }
  const [action, resource] = pick(REQUESTS)
  // A KMS key always has a key policy; without one iam-simulate (rightly) denies. Give the default key policy,
  // which delegates to the account's IAM policies (docs/SEMANTICS.md §1.6, §4.1).
  const resourcePolicy = action.startsWith('kms:') ? DEFAULT_KEY_POLICY : undefined
  const context = {}
  for (const key of keyNames) {
    if (r() < 0.45) {
      const v = pick(KEYS[key].request)
      context[key] = v
    }
  }
  const c = { id, identity_policies: policies, request: { principal: PRINCIPAL, action, resource, context } }
  if (resourcePolicy) c.resource_policy = resourcePolicy
  return c
}

// ------------------------------------------------------------------------------------------------------------
// The two deciders

const SIM_RESULT = { Allowed: 'Allow', ExplicitlyDenied: 'ExplicitDeny', ImplicitlyDenied: 'ImplicitDeny' }

async function simulate(c) {
  const accountId = c.request.resource.split(':')[4] || ACCOUNT
  const sim = {
    request: {
      principal: c.request.principal,
      action: c.request.action,
      resource: { resource: c.request.resource, accountId },
      contextVariables: c.request.context
    },
    identityPolicies: c.identity_policies.map((p, i) => ({ name: `identity${i}`, policy: p })),
    serviceControlPolicies: [],
    resourceControlPolicies: []
  }
  if (c.resource_policy) sim.resourcePolicy = c.resource_policy
  try {
    const res = await runSimulation(sim, { simulationMode: 'Strict' })
    if (res.resultType === 'error') {
      
      return { decision: 'error', detail: res.errors.message }
    }
    const ignored = res.resultType === 'single' ? res.result.ignoredContextKeys ?? [] : []
    return { decision: SIM_RESULT[res.overallResult] ?? res.overallResult, ignored }
  } catch (e) {
    return { decision: 'error', detail: String(e && e.message ? e.message : e) }
  }
}

function iamgate(cases) {
  if (cases.length === 0) return []
  const input = cases.map((c) => JSON.stringify(c)).join('\n') + '\n'
  let out
  try {
    out = execFileSync(IAMGATE, ['batch'], { input, maxBuffer: 1 << 30, stdio: ['pipe', 'pipe', 'ignore'] })
  } catch (e) {
    // Exit status 1 means some records are errors; the records are still there.
    out = e.stdout
  }
  const lines = out.toString().split('\n').filter((l) => l.length > 0)
  if (lines.length !== cases.length) {
    throw new Error(`iamgate returned ${lines.length} records for ${cases.length} cases`)
  }
  return lines.map((l) => {
    const rec = JSON.parse(l)
    return rec.error ? { decision: 'error', detail: rec.error.message } : { decision: rec.decision }
  })
}

async function decideAll(cases) {
  const ours = iamgate(cases)
  const theirs = []
  for (const c of cases) theirs.push(await simulate(c))
  return cases.map((c, i) => ({ c, ours: ours[i], theirs: theirs[i] }))
}

const disagree = (x) => x.ours.decision !== x.theirs.decision

// ------------------------------------------------------------------------------------------------------------
// Shrinking: every single-step reduction of a case, smallest first

function reductions(c) {
  const out = []
  const clone = () => JSON.parse(JSON.stringify(c))
  const ps = c.identity_policies
  if (ps.length > 1) {
    for (let i = 0; i < ps.length; i++) {
      const d = clone()
      d.identity_policies.splice(i, 1)
      out.push(d)
    }
  }
  ps.forEach((p, i) => {
    p.Statement.forEach((st, j) => {
      if (p.Statement.length > 1) {
        const d = clone()
        d.identity_policies[i].Statement.splice(j, 1)
        out.push(d)
      }
      for (const el of ['Action', 'NotAction', 'Resource', 'NotResource']) {
        if (Array.isArray(st[el]) && st[el].length > 1) {
          st[el].forEach((_, k) => {
            const d = clone()
            d.identity_policies[i].Statement[j][el].splice(k, 1)
            out.push(d)
          })
        }
      }
      if (st.Condition) {
        for (const op of Object.keys(st.Condition)) {
          for (const key of Object.keys(st.Condition[op])) {
            const d = clone()
            const cd = d.identity_policies[i].Statement[j].Condition
            delete cd[op][key]
            if (Object.keys(cd[op]).length === 0) delete cd[op]
            if (Object.keys(cd).length === 0) delete d.identity_policies[i].Statement[j].Condition
            out.push(d)
            const vs = st.Condition[op][key]
            if (Array.isArray(vs) && vs.length > 1) {
              vs.forEach((_, k) => {
                const e = clone()
                e.identity_policies[i].Statement[j].Condition[op][key].splice(k, 1)
                out.push(e)
              })
            }
          }
        }
      }
    })
  })
  for (const key of Object.keys(c.request.context)) {
    const d = clone()
    delete d.request.context[key]
    out.push(d)
  }
  return out
}

async function shrinkAll(items) {
  // Breadth-first, in rounds: each round decides every candidate reduction of every unfinished case in one
  // iamgate process, and keeps the first that still disagrees (in the same way).
  let current = items.map((x) => ({ ...x, done: false }))
  for (let round = 0; round < 60; round++) {
    const todo = current.filter((x) => !x.done)
    if (todo.length === 0) break
    const candidates = todo.map((x) => reductions(x.c))
    const flat = candidates.flat()
    const decided = await decideAll(flat)
    let k = 0
    for (let t = 0; t < todo.length; t++) {
      const x = todo[t]
      const mine = decided.slice(k, k + candidates[t].length)
      k += candidates[t].length
      const keep = mine.find((y) => y.ours.decision === x.ours.decision && y.theirs.decision === x.theirs.decision)
      if (keep) {
        x.c = keep.c
        x.ours = keep.ours
        x.theirs = keep.theirs
      } else {
        x.done = true
      }
    }
  }
  return current
}

// ------------------------------------------------------------------------------------------------------------
// Classes: what a shrunk case still holds, with values abstracted where they do not matter

function signature(x) {
  const parts = []
  for (const p of x.c.identity_policies) {
    for (const st of p.Statement) {
      const conds = []
      for (const [op, keys] of Object.entries(st.Condition ?? {})) {
        for (const [key, vs] of Object.entries(keys)) {
          const values = (Array.isArray(vs) ? vs : [vs]).join('|')
          conds.push(`${op} ${key}=${values} (request: ${JSON.stringify(x.c.request.context[key] ?? null)})`)
        }
      }
      const el = st.NotAction ? 'NotAction' : 'Action'
      const rel = st.NotResource ? 'NotResource' : 'Resource'
      const extra = (st.NotAction ? ` ${el}` : '') + (st.NotResource ? ` ${rel}` : '')
      parts.push(`${st.Effect}${extra}${conds.length ? ': ' + conds.join(' AND ') : ''}`)
    }
  }
  return `${x.ours.decision} vs ${x.theirs.decision} :: ${parts.join(' ; ')}`
}

// The adjudicated classes (docs/divergences.md), recognised in a shrunk case. The first rule that matches any
// remaining condition names the class; a case no rule explains is `unclassified` and must be looked at.
const isV4 = (s) => typeof s === 'string' && /^[0-9.]+$/.test(s)
const isV6 = (s) => typeof s === 'string' && s.includes(':')
const CLASS_RULES = [
  [
    'ipv4-slash-0',
    (op, key, vs, req) => /IpAddress/.test(op) && vs.includes('0.0.0.0/0') && [req].flat().some(isV4)
  ],
  [
    'not-ip-across-families',
    (op, key, vs, req) =>
      /NotIpAddress/.test(op) &&
      [req].flat().some((r) => (isV6(r) && vs.every((v) => !v.includes(':'))) || (isV4(r) && vs.every((v) => v.includes(':'))))
  ],
  ['qualifier-ifexists-absent-key', (op, key, vs, req) => /^For(Any|All)Value/.test(op) && /IfExists$/.test(op) && req === undefined],
  ['null-empty-list', (op, key, vs, req) => op === 'Null' && Array.isArray(req) && req.length === 0],
  ['qualifier-empty-string', (op, key, vs, req) => /^For(Any|All)Value/.test(op) && (req === '' || (Array.isArray(req) && req.length === 1 && req[0] === ''))]
]

function classify(x) {
  for (const [name, rule] of CLASS_RULES) {
    for (const p of x.c.identity_policies) {
      for (const st of p.Statement) {
        for (const [op, keys] of Object.entries(st.Condition ?? {})) {
          for (const [key, v] of Object.entries(keys)) {
            const vs = (Array.isArray(v) ? v : [v]).map(String)
            if (rule(op, key, vs, x.c.request.context[key])) return name
          }
        }
      }
    }
  }
  return 'unclassified'
}

/// Coarser: the operators and keys only.
function family(x) {
  const ops = new Set()
  for (const p of x.c.identity_policies) {
    for (const st of p.Statement) {
      for (const [op, keys] of Object.entries(st.Condition ?? {})) {
        for (const key of Object.keys(keys)) ops.add(`${op} ${key}`)
      }
      if (!st.Condition) ops.add(`${st.Effect} without conditions`)
    }
  }
  return `${x.ours.decision} vs ${x.theirs.decision} :: ${[...ops].sort().join(' + ')}`
}

// ------------------------------------------------------------------------------------------------------------

async function main() {
  mkdirSync(OUT, { recursive: true })
  const r = rng(SEED)
  const cases = []
  for (let i = 0; i < N; i++) cases.push(generateCase(r, `d${SEED}-${i}`))
  writeFileSync(join(OUT, 'cases.jsonl'), cases.map((c) => JSON.stringify(c)).join('\n') + '\n')
  const t0 = Date.now()
  const decided = await decideAll(cases)
  const bad = decided.filter(disagree)
  const shrunk = await shrinkAll(bad.map((x) => ({ ...x, original: x.c })))
  const classes = new Map()
  for (const x of shrunk) {
    const fam = classify(x)
    const sig = signature(x)
    if (!classes.has(fam)) classes.set(fam, new Map())
    const sigs = classes.get(fam)
    sigs.set(sig, [...(sigs.get(sig) ?? []), x.original.id])
  }
  writeFileSync(
    join(OUT, 'disagreements.jsonl'),
    shrunk
      .map((x) => JSON.stringify({ id: x.original.id, class: classify(x), family: family(x), iamgate: x.ours, iam_simulate: x.theirs, shrunk: x.c, original: x.original }))
      .join('\n') + (shrunk.length ? '\n' : '')
  )
  const tally = (key) => decided.reduce((m, x) => ((m[x[key].decision] = (m[x[key].decision] ?? 0) + 1), m), {})
  const summary = {
    cases: N,
    seed: SEED,
    seconds: (Date.now() - t0) / 1000,
    iamgate: tally('ours'),
    iam_simulate: tally('theirs'),
    disagreements: bad.length,
    classes: Object.fromEntries([...classes].map(([fam, sigs]) => [fam, Object.fromEntries([...sigs].map(([s, ids]) => [s, ids.length]))]))
  }
  writeFileSync(join(OUT, 'summary.json'), JSON.stringify(summary, null, 2) + '\n')
  const unclassified = shrunk.filter((x) => classify(x) === 'unclassified').length
  console.log(`${N} cases (seed ${SEED}): ${bad.length} disagreements, ${unclassified} unclassified`)
  console.log(`iamgate:      ${JSON.stringify(summary.iamgate)}`)
  console.log(`iam-simulate: ${JSON.stringify(summary.iam_simulate)}`)
  for (const [fam, sigs] of classes) {
    const total = [...sigs.values()].reduce((a, b) => a + b.length, 0)
    console.log(`\n[${total}] ${fam}`)
    const shown = [...sigs].sort((a, b) => b[1].length - a[1].length).slice(0, 6)
    for (const [sig, ids] of shown) console.log(`    ${ids.length} x ${sig}   e.g. ${ids[0]}`)
    if (sigs.size > shown.length) console.log(`    ... and ${sigs.size - shown.length} more shapes (out/summary.json)`)
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(2)
})
