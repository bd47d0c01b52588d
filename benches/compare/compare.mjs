// Compare the decisions of iamgate, iam-simulate and iam-rs, and report timings and ratios.
//
//   node compare.mjs probe   DIR   write DIR/probe.jsonl: for every disagreement, one small case per statement
//                                  element (action + resource with no condition; each condition alone)
//   node compare.mjs report  DIR   print timings, ratios, agreement, and each disagreement with the element on
//                                  which the engines split and the docs/SEMANTICS.md section that settles it
//
// DIR holds cases.jsonl, decisions-{iamgate,iamsim,iamrs}.jsonl, timing-*.json and, after the probe run,
// probe.jsonl and probe-decisions-*.jsonl.

import { existsSync, readFileSync, writeFileSync } from 'node:fs'

const [phase, dir] = process.argv.slice(2)
const TOOLS = [
  ['iamgate', 'iamgate'],
  ['iamsim', 'iam-simulate'],
  ['iamrs', 'iam-rs'],
]
const lines = (p) => (existsSync(p) ? readFileSync(p, 'utf8').split('\n').filter((l) => l.trim()) : [])
const byId = (p) => new Map(lines(p).map((l) => JSON.parse(l)).map((r) => [r.id, r.decision]))
const cases = lines(`${dir}/cases.jsonl`).map((l) => JSON.parse(l))
const decisions = Object.fromEntries(TOOLS.map(([t]) => [t, byId(`${dir}/decisions-${t}.jsonl`)]))
const disagreements = cases.filter((c) => new Set(TOOLS.map(([t]) => decisions[t].get(c.id))).size > 1)

const asList = (v) => (Array.isArray(v) ? v : [v])

// The probes of one case: `<id>#s<i>` (statement i as an Allow without its condition) and `<id>#s<i>c<op>|<key>`
// (Allow * on * with only that condition).
function probes(c) {
  const out = []
  const statements = asList(c.identity_policies?.[0]?.Statement ?? [])
  statements.forEach((s, i) => {
    const bare = { Effect: 'Allow', Action: s.Action, Resource: s.Resource }
    out.push({ id: `${c.id}#s${i}`, what: { element: 'action+resource', statement: i, Action: s.Action, Resource: s.Resource }, statement: bare })
    for (const [op, keys] of Object.entries(s.Condition ?? {})) {
      for (const [key, values] of Object.entries(keys)) {
        out.push({
          id: `${c.id}#s${i}c${op}|${key}`,
          what: { element: 'condition', statement: i, operator: op, key, values },
          statement: { Effect: 'Allow', Action: '*', Resource: '*', Condition: { [op]: { [key]: values } } },
        })
        // The same condition with the key spelled as in the request, to tell a case-sensitivity split (§1.10)
        // from a split on the operator itself.
        const spelled = requestSpelling(c.request, key)
        if (spelled && spelled !== key) {
          out.push({
            id: `${c.id}#s${i}c${op}|${key}~`,
            what: { element: 'condition', statement: i, operator: op, key: spelled, values, respelled: true },
            statement: { Effect: 'Allow', Action: '*', Resource: '*', Condition: { [op]: { [spelled]: values } } },
          })
        }
      }
    }
  })
  return out.map((p) => ({
    ...p,
    case: { id: p.id, identity_policies: [{ Version: '2012-10-17', Statement: [p.statement] }], request: c.request },
  }))
}

const requestSpelling = (request, key) =>
  Object.keys(request.context ?? {}).find((k) => k.toLowerCase() === key.toLowerCase())

// The docs/SEMANTICS.md section that settles a split on one element, and why. A condition whose key is spelled
// differently from the request's is put down to §1.10 only when the respelled probe does not split the same way.
function settle(what, request, respelledSplits = false) {
  if (what.element === 'action+resource') {
    return {
      section: '§2.1',
      rule: 'actions match case-insensitively; in the resource segment `*` spans any characters, `/` included',
    }
  }
  const spelled = requestSpelling(request, what.key)
  if (spelled && spelled !== what.key && !respelledSplits) {
    return { section: '§1.10', rule: 'condition key names are case-insensitive' }
  }
  const ctx = Object.fromEntries(Object.entries(request.context ?? {}).map(([k, v]) => [k.toLowerCase(), v]))
  const present = what.key.toLowerCase() in ctx
  const op = what.operator
  if (op === 'Null') return { section: '§3.3', rule: '`Null: true` holds iff the key is absent, `false` iff present' }
  if (!present) {
    if (op.endsWith('IfExists')) return { section: '§3.3', rule: 'key absent: `…IfExists` is true' }
    if (/Not/.test(op)) return { section: '§3.3', rule: 'key absent: a negated operator is true' }
    return { section: '§3.3', rule: 'key absent: a positive operator is false' }
  }
  if (/^(Not)?IpAddress/.test(op)) return { section: '§3.5', rule: 'IP: CIDR membership; a bare address is /32' }
  if (/^Bool/.test(op)) return { section: '§3.5', rule: 'Bool: "true"/"false" compared as booleans' }
  if (/IgnoreCase/.test(op)) return { section: '§3.5', rule: 'IgnoreCase folds case' }
  if (/Like/.test(op)) return { section: '§2.1, §3.5', rule: '*Like: glob, `*` any run, `?` one character' }
  if (/Not/.test(op)) return { section: '§3.2', rule: 'a negated operator holds iff the value matches none of the policy values' }
  return { section: '§3.2, §3.5', rule: 'a positive operator holds iff the value matches any policy value' }
}

if (phase === 'probe') {
  const all = disagreements.flatMap(probes)
  writeFileSync(`${dir}/probe.jsonl`, all.map((p) => JSON.stringify(p.case)).join('\n') + (all.length ? '\n' : ''))
  process.stderr.write(`${disagreements.length} disagreements, ${all.length} probe cases\n`)
} else if (phase === 'report') {
  const timing = Object.fromEntries(
    TOOLS.map(([t]) => [t, existsSync(`${dir}/timing-${t}.json`) ? JSON.parse(readFileSync(`${dir}/timing-${t}.json`, 'utf8')) : null])
  )
  const cli = existsSync(`${dir}/timing-cli.json`) ? JSON.parse(readFileSync(`${dir}/timing-cli.json`, 'utf8')) : null
  const fmt = (ns) => (ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : ns >= 1e3 ? `${(ns / 1e3).toFixed(2)} µs` : `${ns.toFixed(0)} ns`)
  console.log(`cases: ${cases.length}`)
  console.log('\ntime per decision (same run, in process)')
  console.log('  engine         sweep (cold)     hot (64x a case)   case in, decision out   case in, record with lint')
  for (const [t, name] of TOOLS) {
    const x = timing[t]
    if (!x) continue
    const hot = x.ns_per_decision_hot ? fmt(x.ns_per_decision_hot) : '-'
    const record = x.ns_per_case_record ? fmt(x.ns_per_case_record) : '-'
    console.log(`  ${name.padEnd(14)} ${fmt(x.ns_per_decision).padEnd(16)} ${hot.padEnd(18)} ${fmt(x.ns_per_case_end_to_end).padEnd(23)} ${record}`)
  }
  console.log('  (case in, decision out: parse, compile, decide, no lint, as iam-rs; record with lint: iamgate\'s')
  console.log('   Case::parse then Case::decide, the reasons and lint\'s warnings that `iamgate batch` writes, in process)')
  if (cli) console.log(`  iamgate batch (CLI, process start, explain, JSON out): ${fmt(cli.ns_per_case)} per case, ${cli.seconds.toFixed(3)} s wall`)
  const g = timing.iamgate
  if (g) {
    console.log('\nratios, peer time / iamgate time (targets: iam-simulate >= 100x, iam-rs >= 20x per decision)')
    for (const [t, name, target] of [
      ['iamsim', 'iam-simulate', 100],
      ['iamrs', 'iam-rs', 20],
    ]) {
      const x = timing[t]
      if (!x) continue
      const verdict = (r) => `${r.toFixed(1)}x (${r >= target ? 'met' : `missed by ${(target / r).toFixed(1)}x`})`
      const sweep = x.ns_per_decision / g.ns_per_decision
      const hot = (x.ns_per_decision_hot ?? x.ns_per_decision) / g.ns_per_decision_hot
      const e2e = x.ns_per_case_end_to_end / g.ns_per_case_end_to_end
      const rec = g.ns_per_case_record ? `; against iamgate's record with lint ${(x.ns_per_case_end_to_end / g.ns_per_case_record).toFixed(1)}x` : ''
      console.log(`  ${name.padEnd(13)} sweep ${verdict(sweep)}; hot ${verdict(hot)}; case in, decision out ${e2e.toFixed(1)}x${rec}`)
    }
    console.log('  (iam-simulate has no compile-once form: its one figure, runSimulation per case, is set against each)')
  }
  console.log('\nagreement')
  for (const [t, name] of TOOLS.slice(1)) {
    const same = cases.filter((c) => decisions[t].get(c.id) === decisions.iamgate.get(c.id)).length
    const errors = cases.filter((c) => String(decisions[t].get(c.id) ?? 'Error').startsWith('Error')).length
    console.log(`  iamgate = ${name}: ${same}/${cases.length}${errors ? ` (${name} errors: ${errors})` : ''}`)
  }
  const cliDecisions = byId(`${dir}/decisions-cli.jsonl`)
  if (cliDecisions.size) {
    const same = cases.filter((c) => cliDecisions.get(c.id) === decisions.iamgate.get(c.id)).length
    console.log(`  iamgate batch (CLI) = iamgate in process: ${same}/${cases.length}`)
  }
  console.log(`  all three agree: ${cases.length - disagreements.length}/${cases.length}`)
  const probe = Object.fromEntries(TOOLS.map(([t]) => [t, byId(`${dir}/probe-decisions-${t}.jsonl`)]))
  const tally = new Map()
  const detail = []
  for (const c of disagreements) {
    const d = TOOLS.map(([t, name]) => `${name} ${decisions[t].get(c.id) ?? 'missing'}`).join(', ')
    const splits = []
    for (const p of probes(c)) {
      if (p.what.respelled) continue
      const splitOn = (id) => new Set(TOOLS.map(([t]) => probe[t].get(id))).size > 1
      if (!splitOn(p.id)) continue
      const s = settle(p.what, c.request, splitOn(`${p.id}~`))
      const w = p.what
      const element =
        w.element === 'action+resource'
          ? `statement ${w.statement}: Action ${JSON.stringify(w.Action)} / Resource ${JSON.stringify(w.Resource)}`
          : `statement ${w.statement}: ${w.operator} ${w.key} ${JSON.stringify(w.values)} (request: ${JSON.stringify(Object.entries(c.request.context ?? {}).find(([k]) => k.toLowerCase() === w.key.toLowerCase())?.[1] ?? null)})`
      const deviants = TOOLS.filter(([t]) => probe[t].get(p.id) !== probe.iamgate.get(p.id)).map(([, n]) => n)
      splits.push(`    ${element}\n      ${TOOLS.map(([t, n]) => `${n} ${probe[t].get(p.id)}`).join(', ')}; ${s.section}: ${s.rule}`)
      const key = `${deviants.join('+')} differs on ${w.element === 'action+resource' ? 'action/resource matching' : `${w.operator} (${s.rule})`}, ${s.section}`
      tally.set(key, (tally.get(key) ?? 0) + 1)
    }
    if (!splits.length) {
      const key = 'no single element differs: the combination (docs/SEMANTICS.md §4.1, §3.2)'
      tally.set(key, (tally.get(key) ?? 0) + 1)
    }
    detail.push(`  ${c.id}: ${d}\n${splits.join('\n') || '    (no single element differs; see §4.1)'}`)
  }
  if (disagreements.length) {
    console.log('\ndisagreements by cause (element-level splits; one case can show several)')
    for (const [k, n] of [...tally].sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(5)}  ${k}`)
    writeFileSync(`${dir}/disagreements.txt`, detail.join('\n') + '\n')
    console.log(`\nevery disagreement, with the element the engines split on: ${dir}/disagreements.txt`)
    console.log('first ones:')
    console.log(detail.slice(0, 5).join('\n'))
  }
} else {
  process.stderr.write('usage: node compare.mjs probe|report DIR\n')
  process.exit(2)
}
