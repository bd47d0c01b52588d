//! Inputs shared by the benches: the Studio guardrail bundle from `corpus/bench/`, the requests decided against
//! it, deterministic CIDR lists, and the policies and cases of `corpus/cases/`.
//!
//! Setup errors end the bench with a message (`exit(1)`): a bench that measures the wrong thing is worse than none.

#![allow(dead_code)]

use iamgate::context::ContextError;
use iamgate::{Decision, Policy, PolicySet, Request, RequestRef, ValueRef};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

pub const ACTION: &str = "sagemaker:CreatePresignedDomainUrl";
pub const RESOURCE: &str = "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123/alice";
pub const PRINCIPAL: &str = "arn:aws:iam::111122223333:role/DataSci";

/// The bundle's files in `corpus/bench/`, in the order the parse bench reads them.
pub const BUNDLE_FILES: [&str; 5] = [
    "identity.json",
    "boundary.json",
    "scp-full-access.json",
    "scp-ou-deny-public.json",
    "endpoint.json",
];

/// The value, or a message and exit code 1.
pub fn or_exit<T, E: std::fmt::Display>(r: Result<T, E>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => {
            eprintln!("bench setup failed: {what}: {e}");
            std::process::exit(1)
        }
    }
}

/// Exit with a message unless `ok`.
pub fn check(ok: bool, what: &str) {
    if !ok {
        eprintln!("bench setup failed: {what}");
        std::process::exit(1)
    }
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn read(rel: &str) -> String {
    or_exit(std::fs::read_to_string(root().join(rel)), rel)
}

pub fn bench_file(name: &str) -> String {
    read(&format!("corpus/bench/{name}"))
}

pub fn parse(text: &str, what: &str) -> Policy {
    or_exit(Policy::parse(text), what)
}

/// The bundle's five policies, parsed: identity, boundary, root SCP, OU SCP, endpoint.
pub struct Bundle {
    pub identity: Policy,
    pub boundary: Policy,
    pub scp_full_access: Policy,
    pub scp_ou_deny_public: Policy,
    pub endpoint: Policy,
}

pub fn bundle() -> Bundle {
    Bundle {
        identity: parse(&bench_file("identity.json"), "identity.json"),
        boundary: parse(&bench_file("boundary.json"), "boundary.json"),
        scp_full_access: parse(&bench_file("scp-full-access.json"), "scp-full-access.json"),
        scp_ou_deny_public: parse(
            &bench_file("scp-ou-deny-public.json"),
            "scp-ou-deny-public.json",
        ),
        endpoint: parse(&bench_file("endpoint.json"), "endpoint.json"),
    }
}

/// Identity + boundary + two SCP levels (root: FullAWSAccess; OU: FullAWSAccess and the public-path deny) +
/// endpoint policy.
pub fn build(b: Bundle) -> PolicySet {
    let set = PolicySet::builder()
        .identity(b.identity)
        .boundary(b.boundary)
        .scp_level([b.scp_full_access.clone()])
        .scp_level([b.scp_full_access, b.scp_ou_deny_public])
        .endpoint(b.endpoint)
        .build();
    or_exit(set, "compile the bundle")
}

pub fn bundle_set() -> PolicySet {
    build(bundle())
}

/// A request as it arrives: text only.
#[derive(Clone, Copy)]
pub struct RequestText<'a> {
    pub principal: &'a str,
    pub action: &'a str,
    pub resource: &'a str,
    pub context: &'a [(&'a str, ValueRef<'a>)],
}

impl<'a> RequestText<'a> {
    /// The request borrowed as it is, for `PolicySet::decide_ref` (which does the ingest itself).
    pub fn borrowed(&self) -> RequestRef<'a> {
        RequestRef {
            principal: Some(self.principal),
            action: self.action,
            resource: self.resource,
            resource_account: None,
            context: self.context,
        }
    }
}

/// The context keys a proxy in front of Studio sends, in its order, for `PolicySet::key_layout`: each request
/// carries the ones its network path has.
pub const PROXY_KEYS: &[&str] = &[
    "aws:SourceIp",
    "aws:SourceVpce",
    "aws:SourceVpc",
    "aws:VpcSourceIp",
    "aws:ViaAWSService",
];

/// The API call through the VPC endpoint (docs/SEMANTICS.md §5.2: SourceVpce, SourceVpc, VpcSourceIp; no SourceIp).
pub const VIA_ENDPOINT: RequestText<'static> = RequestText {
    principal: PRINCIPAL,
    action: ACTION,
    resource: RESOURCE,
    context: &[
        ("aws:SourceVpce", ValueRef::One("vpce-0api0000000000001")),
        ("aws:SourceVpc", ValueRef::One("vpc-0shared00000000001")),
        ("aws:VpcSourceIp", ValueRef::One("10.20.1.5")),
        ("aws:ViaAWSService", ValueRef::One("false")),
    ],
};

/// The same call over the public endpoint through Zscaler: `aws:SourceIp` only.
pub const PUBLIC: RequestText<'static> = RequestText {
    principal: PRINCIPAL,
    action: ACTION,
    resource: RESOURCE,
    context: &[
        ("aws:SourceIp", ValueRef::One("165.225.10.1")),
        ("aws:ViaAWSService", ValueRef::One("false")),
    ],
};

/// Ingest: build the request and its typed, checked context from text (IP and bool values are checked here).
pub fn ingest(t: &RequestText<'_>) -> Result<Request, ContextError> {
    t.borrowed().to_request()
}

pub fn request(t: &RequestText<'_>) -> Request {
    or_exit(ingest(t), "build the request")
}

pub fn expect(set: &PolicySet, req: &Request, want: Decision, what: &str) {
    let got = set.decide(req);
    check(
        got == want,
        &format!("{what}: expected {want}, decided {got}"),
    );
}

/// splitmix64: deterministic, seedable, no dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// `n` IPv4 CIDRs, prefixes /16 to /32, from `seed`: the same list on every run.
pub fn random_cidrs(n: usize, seed: u64) -> Vec<String> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| {
            let prefix = 16 + rng.below(17) as u32;
            let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
            let base = (rng.next_u64() as u32) & mask;
            format!("{}/{prefix}", Ipv4Addr::from(base))
        })
        .collect()
}

/// A one-statement policy: `effect` `actions` on `*` when `operator` holds for `key` against `cidrs`.
pub fn cidr_policy(
    effect: &str,
    actions: &[&str],
    operator: &str,
    key: &str,
    cidrs: &[String],
) -> String {
    let doc = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": format!("{effect}By{operator}"),
            "Effect": effect,
            "Action": actions,
            "Resource": "*",
            "Condition": {operator: {key: cidrs}},
        }],
    });
    or_exit(
        serde_json::to_string_pretty(&doc),
        "serialise a generated policy",
    )
}

/// Every `.json` file under `dir`, sorted, recursively.
pub fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = or_exit(std::fs::read_dir(&d), &d.display().to_string());
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The text of every case in `corpus/cases/` (one pretty-printed case per file).
pub fn case_texts() -> Vec<String> {
    json_files(&root().join("corpus/cases"))
        .iter()
        .map(|p| or_exit(std::fs::read_to_string(p), &p.display().to_string()))
        .collect()
}

/// Identity policy `i` of a what-if population: two statements, one with conditions on keys that recur across
/// the population.
pub fn identity_text(i: usize) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[
        {{"Sid":"Studio{i}","Effect":"Allow","Action":["sagemaker:CreatePresignedDomainUrl","sagemaker:DescribeUserProfile"],
          "Resource":"arn:aws:sagemaker:eu-west-1:1111222233{n:02}:user-profile/d-{i}/*",
          "Condition":{{"StringEquals":{{"aws:SourceVpce":["vpce-{i:08x}","vpce-0000{n:04}"]}},
                        "IpAddress":{{"aws:VpcSourceIp":"10.{n}.0.0/16"}}}}}},
        {{"Effect":"Deny","Action":"s3:Delete*","Resource":"arn:aws:s3:::bucket-{i}/*",
          "Condition":{{"Bool":{{"aws:SecureTransport":"false"}}}}}}]}}"#,
        n = i % 100
    )
}

/// Endpoint policy `e`.
pub fn endpoint_text(e: usize) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":"*","Action":"sagemaker:*",
          "Resource":"*","Condition":{{"StringEquals":{{"aws:PrincipalAccount":"1111222233{e:02}"}}}}}}]}}"#
    )
}
