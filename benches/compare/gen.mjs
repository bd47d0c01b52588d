// Generate N random-but-deterministic cases (one JSON line each, iamgate's Case format): one identity policy of
// 1-3 statements over the Studio actions, with String / IP / Bool / IfExists / Null conditions on the network
// keys, and a request along one network path (VPC endpoint, public, or forward access through a service).
// Usage: node gen.mjs N SEED > cases.jsonl
// Only the identity policy is generated: iam-rs evaluates one set of policies with no SCP/boundary gates, so the
// three engines are compared on what all three model.

const n = Number(process.argv[2] ?? 2000)
const seed = Number(process.argv[3] ?? 1)

// mulberry32
let state = seed >>> 0
function rand() {
  state = (state + 0x6d2b79f5) >>> 0
  let t = state
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const pick = (xs) => xs[Math.floor(rand() * xs.length)]
const chance = (p) => rand() < p
const some = (xs, k) => {
  const pool = [...xs]
  const out = []
  for (let i = 0; i < k && pool.length; i++) out.push(pool.splice(Math.floor(rand() * pool.length), 1)[0])
  return out
}

const ACCOUNT = '111122223333'
const REGION = 'eu-west-1'
const DOMAIN = 'd-abc123'
const PRINCIPAL = `arn:aws:iam::${ACCOUNT}:role/DataSci`
const arn = (rest) => `arn:aws:sagemaker:${REGION}:${ACCOUNT}:${rest}`
const PROFILE = arn(`user-profile/${DOMAIN}/alice`)
// Actions with the resource type each one takes (iam-simulate checks the ARN against the action's resource types).
const ACTIONS = [
  ['sagemaker:CreatePresignedDomainUrl', PROFILE],
  ['sagemaker:DescribeUserProfile', PROFILE],
  ['sagemaker:DescribeDomain', arn(`domain/${DOMAIN}`)],
  ['sagemaker:CreateApp', arn(`app/${DOMAIN}/alice/jupyterserver/default`)],
  ['sagemaker:DescribeApp', arn(`app/${DOMAIN}/alice/jupyterserver/default`)],
  ['sagemaker:DeleteApp', arn(`app/${DOMAIN}/alice/kernelgateway/datascience-1`)],
]
const ACTION_PATTERNS = [
  '*',
  'sagemaker:*',
  'sagemaker:CreatePresignedDomainUrl',
  'sagemaker:Describe*',
  'sagemaker:*App',
  'sagemaker:CreatePresigned*',
  'sagemaker:DescribeUserProfile',
]
const RESOURCE_PATTERNS = ['*', arn(`user-profile/${DOMAIN}/*`), arn('*'), arn(`app/${DOMAIN}/*`), arn(`*/${DOMAIN}*`)]

const VPCES = ['vpce-0api0000000000001', 'vpce-0studio000000002', 'vpce-0other00000000003']
const VPCS = ['vpc-0shared00000000001', 'vpc-0other000000000002']
const CORP = ['198.51.100.0/24', '165.225.0.0/17', '10.20.0.0/16', '203.0.113.7', '2001:db8:1234::/48']
const PUBLIC_IPS = ['198.51.100.23', '165.225.10.1', '165.225.200.9', '203.0.113.7', '192.0.2.44', '2001:db8:1234::7']
const VPC_IPS = ['10.20.1.5', '10.99.3.4', '172.16.0.9']

// [operator base, key, value pool, is-bool]
const STRING_KEYS = [
  ['aws:SourceVpce', VPCES],
  ['aws:SourceVpc', VPCS],
]
const IP_KEYS = ['aws:SourceIp', 'aws:VpcSourceIp']
const BOOL_KEYS = ['aws:ViaAWSService', 'aws:SecureTransport']

function condition() {
  const block = {}
  const k = 1 + Math.floor(rand() * 3)
  for (let i = 0; i < k; i++) {
    const family = pick(['string', 'string', 'ip', 'ip', 'bool', 'null'])
    const ifExists = family !== 'null' && chance(0.4) ? 'IfExists' : ''
    let op, key, values
    if (family === 'string') {
      const [kk, pool] = pick(STRING_KEYS)
      key = kk
      op = pick(['StringEquals', 'StringNotEquals', 'StringLike', 'StringNotLike', 'StringEqualsIgnoreCase'])
      values = some(pool, 1 + Math.floor(rand() * 2))
      if (op.includes('Like') && chance(0.5)) values = values.map((v) => v.slice(0, 9) + '*')
      if (op.includes('IgnoreCase') && chance(0.5)) values = values.map((v) => v.toUpperCase())
    } else if (family === 'ip') {
      key = pick(IP_KEYS)
      op = pick(['IpAddress', 'NotIpAddress'])
      values = some(CORP, 1 + Math.floor(rand() * 3))
    } else if (family === 'bool') {
      key = pick(BOOL_KEYS)
      op = 'Bool'
      // Mostly lower case; now and then capitalised (docs/SEMANTICS.md §3.5: case handling UNCERTAIN).
      values = [chance(0.9) ? pick(['true', 'false']) : pick(['True', 'FALSE'])]
    } else {
      key = pick([...STRING_KEYS.map((s) => s[0]), ...IP_KEYS])
      op = 'Null'
      values = [pick(['true', 'false'])]
    }
    op += ifExists
    // Condition keys are case-insensitive (docs/SEMANTICS.md §1.10): now and then write one in lower case.
    if (chance(0.1)) key = key.toLowerCase()
    block[op] ??= {}
    if (Object.keys(block[op]).some((k) => k.toLowerCase() === key.toLowerCase())) continue
    block[op][key] = values.length === 1 && chance(0.5) ? values[0] : values
  }
  return block
}

function statement() {
  const s = { Effect: chance(0.7) ? 'Allow' : 'Deny' }
  const actions = some(ACTION_PATTERNS, 1 + Math.floor(rand() * 2))
  s.Action = actions.length === 1 ? actions[0] : actions
  s.Resource = pick(RESOURCE_PATTERNS)
  if (chance(0.85)) s.Condition = condition()
  return s
}

function context() {
  const c = {}
  const path = pick(['endpoint', 'endpoint', 'public', 'public', 'service'])
  if (path === 'endpoint') {
    c['aws:SourceVpce'] = pick(VPCES)
    c['aws:SourceVpc'] = pick(VPCS)
    c['aws:VpcSourceIp'] = pick(VPC_IPS)
  } else if (path === 'public') {
    c['aws:SourceIp'] = pick(PUBLIC_IPS)
  } else {
    c['aws:ViaAWSService'] = 'true'
  }
  if (path !== 'service' && chance(0.6)) c['aws:ViaAWSService'] = 'false'
  if (chance(0.5)) c['aws:SecureTransport'] = pick(['true', 'false'])
  return c
}

const lines = []
for (let i = 0; i < n; i++) {
  const statements = Array.from({ length: 1 + Math.floor(rand() * 3) }, statement)
  const [action, resource] = pick(ACTIONS)
  const line = {
    id: `gen-${i}`,
    identity_policies: [{ Version: '2012-10-17', Statement: statements }],
    request: { principal: PRINCIPAL, action, resource, context: context() },
  }
  lines.push(JSON.stringify(line))
}
process.stdout.write(lines.join('\n') + '\n')
