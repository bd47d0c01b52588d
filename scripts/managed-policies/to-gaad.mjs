// managedPolicies.json (name -> {arn, latestVersionId, versions: {id: {document}}}) to an
// `aws iam get-account-authorization-details` export: every policy in `Policies` with its latest version as the
// default, and one role per policy that has only that policy attached.
import fs from 'node:fs';

const [src, dst] = process.argv.slice(2);
const all = JSON.parse(fs.readFileSync(src, 'utf8'));
const out = fs.createWriteStream(dst);
const names = Object.keys(all).sort();
out.write('{"RoleDetailList": [');
names.forEach((name, i) => {
  const p = all[name];
  const role = {
    RoleName: name.slice(0, 64),
    Arn: `arn:aws:iam::111122223333:role/aws-managed/${name}`,
    RolePolicyList: [],
    AttachedManagedPolicies: [{ PolicyName: name, PolicyArn: p.arn }],
    Tags: [],
  };
  out.write((i ? ',\n' : '\n') + JSON.stringify(role));
});
out.write('],\n"Policies": [');
names.forEach((name, i) => {
  const p = all[name];
  const versions = Object.entries(p.versions || {}).map(([id, v]) => ({
    VersionId: id,
    IsDefaultVersion: id === p.latestVersionId,
    Document: v.document,
  }));
  const pol = { PolicyName: name, Arn: p.arn, DefaultVersionId: p.latestVersionId, PolicyVersionList: versions };
  out.write((i ? ',\n' : '\n') + JSON.stringify(pol));
});
out.write(']}\n');
out.end();
