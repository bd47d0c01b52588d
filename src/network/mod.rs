//! The network model (docs/FORMATS.md §3): where the user sits and how the two requests of the presigned-URL flow
//! travel, and from that the exact request context of each step (docs/SEMANTICS.md §5.2, §6.2, §6.3).
//!
//! The flow has two steps, both authorized as `sagemaker:CreatePresignedDomainUrl` on the user-profile ARN:
//!
//! 1. **create**: the call to `api.sagemaker.REGION.amazonaws.com`, made by the client, the AWS console or a
//!    service inside the VPC (`create.via`);
//! 2. **use**: every HTTP request and WebSocket frame of the browser to `DOMAIN.studio.REGION.sagemaker.aws`
//!    (§6.2), which always follows the client's path.
//!
//! For each step [`derive`](fn@derive) works out how the host name resolves (forwarded to the Route 53 Resolver inbound
//! endpoint and answered by an interface endpoint with private DNS, or public), the route (a private route over
//! Direct Connect, VPN or a ZPA App Connector, or internet egress through Zscaler, a NAT or directly), the endpoint
//! reached, and the request context with exactly the keys AWS includes:
//!
//! | path | keys |
//! |---|---|
//! | public endpoint | `aws:SourceIp` (the egress address; a range is decided exactly over every address), `aws:ViaAWSService` = false |
//! | interface endpoint | `aws:SourceVpce`, `aws:SourceVpc`, `aws:VpcSourceIp`, `aws:ViaAWSService` = false; never `aws:SourceIp`, never `aws:SourceVpcArn` or `aws:Vpce*` (SageMaker is not on their lists, §5.1) |
//!
//! Contexts hold only these network keys: principal keys such as `aws:PrincipalArn` are not added (the request's
//! principal is set, and policies conditioned on principal keys see them absent).
//!
//! [`presign`] then decides each step with the core, with the endpoint policy of the endpoint actually reached, and
//! gives the verdict and the findings (docs/network.md, Findings).
//!
//! ```
//! use iamgate::network::{presign, Network, StepDecision, Verdict};
//! use iamgate::{Policy, PolicySet};
//! let net = Network::parse(r#"{"name": "home", "region": "eu-west-1", "account": "111122223333",
//!   "principal": "arn:aws:iam::111122223333:role/DataSci", "domain_id": "d-abc123", "user_profile": "alice",
//!   "client": {"ip": "192.168.1.20", "egress": {"kind": "nat", "ips": ["198.51.100.7"]}}}"#, None).unwrap();
//! let p = Policy::parse(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
//!   "Action":"sagemaker:CreatePresignedDomainUrl","Resource":"*",
//!   "Condition":{"IpAddress":{"aws:SourceIp":"198.51.100.0/24"}}}]}"#).unwrap();
//! let set = PolicySet::builder().identity(p).build().unwrap();
//! let report = presign(&set, &net);
//! assert_eq!(report.steps[0].decision, StepDecision::Allow);
//! assert_eq!(report.verdict, Verdict::Works);
//! ```

mod addr;
mod derive;
mod feedfile;
pub mod feeds;
pub(crate) mod findings;
mod read;
mod report;
mod step;

pub use addr::{is_private, show_net};
pub use derive::{DerivedStep, Reach, StepKind, derive};
pub use feeds::FeedRange;
pub use findings::Finding;
pub use report::{
    KeyValue, KeyValues, Outcome, PresignReport, SharedReasons, StepContext, StepDecision,
    StepReport, Verdict, presign,
};
#[cfg(feature = "cli")]
#[cfg(feature = "cli")]
pub(crate) use report::{decide_step_in, sso_finding};
#[cfg(test)]
pub(crate) use step::put as step_put;

use crate::compile::CompiledPolicy;
use ipnet::IpNet;
use serde::Serialize;
use std::fmt;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

/// The action both steps are authorized as (docs/SEMANTICS.md §6.2).
pub const ACTION: &str = "sagemaker:CreatePresignedDomainUrl";

/// A network scenario: one JSON file of the Network format (docs/FORMATS.md §3).
#[derive(Debug, Clone)]
pub struct Network {
    /// `name`: the scenario's name, echoed as `network` in the presign record (docs/FORMATS.md §4).
    pub name: String,
    /// `region`: the AWS Region code of the Studio domain (`eu-west-1`), in both hosts and the user-profile ARN.
    pub region: String,
    /// `account`: the 12-digit id of the account that owns the domain, in the user-profile ARN.
    pub account: String,
    /// The principal that creates (and so uses, §6.2) the URL.
    pub principal: String,
    /// `domain_id`: the Studio domain's id (`d-abc123`), in the Studio host and the user-profile ARN.
    pub domain_id: String,
    /// `user_profile`: the user profile's name, the last part of the ARN both steps are authorized on.
    pub user_profile: String,
    /// `vpc`: the VPC with the SageMaker interface endpoints; `None` when there is none: every step then goes to
    /// the public endpoints (or is unreachable without internet egress).
    pub vpc: Option<Vpc>,
    /// `client`: where the user's browser and CLI sit, and how their traffic leaves.
    pub client: Client,
    /// `create`: who makes the `CreatePresignedDomainUrl` call (the use step always follows the client's path).
    pub create: Create,
    /// Known shared egress ranges (security clouds, cloud providers) to cross-check `aws:SourceIp` allow-lists
    /// against (§7.6): the top-level `feeds`, plus whatever a caller adds. The egress's own Zscaler ranges are
    /// always included by the findings.
    pub shared_ranges: Vec<FeedRange>,
    /// The Studio domain's authentication mode (`domain.auth_mode`), fixed when the domain is created.
    pub auth_mode: AuthMode,
    /// Line and column of `domain.auth_mode` in the network file (1, 1 when absent).
    pub(crate) auth_mode_at: (usize, usize),
    /// Context keys every request of the flow carries besides those the path sets (for example `aws:username`,
    /// from `presign --context`); a key the path sets keeps the path's value. Empty when read from a file.
    pub context: crate::context::Context,
    /// The network file's text, to place findings in inline endpoint policies.
    pub(crate) source: Arc<str>,
}

/// How users sign in to the Studio domain (`domain.auth_mode` in a network file; default `iam`). In `sso` mode
/// users come in through IAM Identity Center, and `CreatePresignedDomainUrl` is not the way in: the API works only
/// for IAM-mode domains (AWS, SageMaker API reference, CreatePresignedDomainUrl; docs/whatif.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// `iam` (the default): users come in through `CreatePresignedDomainUrl`, the flow presign decides.
    Iam,
    /// `sso`: users come in through IAM Identity Center; presign's verdict is `sso-domain`.
    Sso,
}

/// The VPC that holds the interface endpoints and the Route 53 Resolver inbound endpoint.
#[derive(Debug, Clone)]
pub struct Vpc {
    /// `vpc.id` (`vpc-...`): the value of `aws:SourceVpc` for requests through its endpoints
    /// (docs/SEMANTICS.md §5.4).
    pub id: String,
    /// The SageMaker API endpoint (`com.amazonaws.REGION.sagemaker.api`): creation goes through it.
    pub api: Option<Endpoint>,
    /// The Studio endpoint (`aws.sagemaker.REGION.studio`): use of the URL goes through it.
    pub studio: Option<Endpoint>,
    /// The addresses of the Route 53 Resolver inbound endpoint.
    pub inbound_resolver: Vec<IpAddr>,
}

/// Which of the two SageMaker interface endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EndpointRole {
    /// The SageMaker API endpoint (`vpc.endpoints.api`), which the create step can reach.
    Api,
    /// The Studio endpoint (`vpc.endpoints.studio`), which the use step can reach.
    Studio,
}

impl fmt::Display for EndpointRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EndpointRole::Api => "SageMaker API",
            EndpointRole::Studio => "Studio",
        })
    }
}

/// An interface VPC endpoint.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The endpoint's id (`vpce-...`): the value of `aws:SourceVpce` for requests through it.
    pub id: String,
    /// Whether the VPC resolver answers the service's names with the endpoint's private IPs (private DNS enabled,
    /// or a private hosted zone aliasing them, as in MULTI). Default true, as AWS's default for AWS services.
    pub private_dns: bool,
    /// The endpoint's private addresses, if given (only for the path description).
    pub ips: Vec<IpAddr>,
    /// The endpoint policy; `None` is the default full-access policy.
    pub policy: Option<EndpointPolicy>,
}

/// An endpoint policy from a network file, compiled, with where it was written.
#[derive(Debug, Clone)]
pub struct EndpointPolicy {
    /// The policy, compiled as an endpoint policy (and refused at read time if it is not one); its spans are in
    /// its own text.
    pub compiled: CompiledPolicy,
    /// Byte offset of the policy object in the network file, when written inline as an object (its spans are
    /// relative to its own text, which starts there). `None` when written as a string.
    pub(crate) inline_at: Option<usize>,
}

/// Where the user's browser and CLI sit.
#[derive(Debug, Clone)]
pub struct Client {
    /// The client's own address (or a range of client addresses, decided exactly).
    pub ip: IpNet,
    /// The client sits inside the VPC and uses the VPC resolver (a WorkSpaces desktop, for example).
    pub in_vpc: bool,
    /// Names the client's DNS forwards to the Route 53 Resolver inbound endpoint (`*.x` and `x` both cover
    /// every name under `x`).
    pub dns_forwarding: Vec<String>,
    /// `client.private_route`: how the client reaches private VPC addresses. `None` (for a client not `in_vpc`)
    /// makes them unreachable: a step whose host resolves to an endpoint's private address is `Unreachable`.
    pub private_route: Option<PrivateRoute>,
    /// How public traffic leaves; `None` means directly from `ip` when it is public, else no internet access.
    pub egress: Option<Egress>,
}

/// How private VPC addresses are reached from the client.
#[derive(Debug, Clone)]
pub struct PrivateRoute {
    /// `kind`: what carries the traffic. Only `zpa` changes the derivation: its App Connector resolves names
    /// inside the VPC, so forwarded names need no inbound resolver (docs/network.md).
    pub kind: RouteKind,
    /// The address the endpoint sees (`aws:VpcSourceIp`); default the client's address (§5.4, UNCERTAIN).
    pub source_ip: Option<IpNet>,
}

/// What carries a private route (`client.private_route.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RouteKind {
    /// `direct-connect`: AWS Direct Connect.
    DirectConnect,
    /// `vpn`: a site-to-site or client VPN.
    Vpn,
    /// `zpa`: a Zscaler Private Access App Connector in the VPC, which also resolves names inside the VPC.
    Zpa,
}

impl RouteKind {
    /// The kind as the network file writes it: `direct-connect`, `vpn` or `zpa`.
    pub fn name(self) -> &'static str {
        match self {
            RouteKind::DirectConnect => "direct-connect",
            RouteKind::Vpn => "vpn",
            RouteKind::Zpa => "zpa",
        }
    }
}

/// How traffic to public addresses leaves the client's network.
#[derive(Debug, Clone)]
pub struct Egress {
    /// `kind`: who owns the egress addresses, which decides whether other organisations share them.
    pub kind: EgressKind,
    /// The addresses given in `ips` (for `direct` without `ips`: the client's address).
    pub ips: Vec<IpNet>,
    /// The ranges of the feeds the egress names (`cenr`, `aws_ip_ranges`).
    pub feeds: Vec<FeedRange>,
}

impl Egress {
    /// Every public address the traffic may leave from, as CIDR blocks: `ips`, then the feeds' ranges.
    pub fn nets(&self) -> Vec<IpNet> {
        self.ips
            .iter()
            .copied()
            .chain(self.feeds.iter().map(|r| r.net))
            .collect()
    }

    /// The egress ranges that other organizations share: all of a Zscaler egress, and any range from a feed.
    pub fn shared(&self) -> Vec<FeedRange> {
        let own = match self.kind {
            EgressKind::Zscaler => self
                .ips
                .iter()
                .map(|&net| FeedRange {
                    net,
                    source: "the Zscaler egress of this network (client.egress.ips)".into(),
                })
                .collect(),
            EgressKind::Nat | EgressKind::Direct => Vec::new(),
        };
        own.into_iter().chain(self.feeds.iter().cloned()).collect()
    }
}

/// How public traffic leaves (`client.egress.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EgressKind {
    /// A security cloud's shared, multi-tenant egress (Zscaler ZIA).
    Zscaler,
    /// Addresses the enterprise owns (corporate NAT or NAT gateway).
    Nat,
    /// No proxy or NAT: the client's own public address.
    Direct,
}

impl EgressKind {
    /// The kind as the network file writes it: `zscaler`, `nat` or `direct`.
    pub fn name(self) -> &'static str {
        match self {
            EgressKind::Zscaler => "zscaler",
            EgressKind::Nat => "nat",
            EgressKind::Direct => "direct",
        }
    }
}

/// Who calls `CreatePresignedDomainUrl`.
#[derive(Debug, Clone)]
pub struct Create {
    /// `create.via` (default `client`).
    pub via: CreateVia,
    /// `vpc`: the calling service's address in the VPC (`aws:VpcSourceIp`; absent: every RFC 1918 address is
    /// decided); `console`: the browser's public address, when it differs from the client's egress.
    pub source_ip: Option<IpNet>,
}

/// Who calls `CreatePresignedDomainUrl` (`create.via`), and so which path the create step takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CreateVia {
    /// `client`: the user's CLI or SDK, along the client's own path (as the use step).
    Client,
    /// `console`: the AWS console calls the public API for the user; `aws:SourceIp` is the browser's public
    /// egress.
    Console,
    /// `vpc`: a service inside the VPC, through the API endpoint; `aws:VpcSourceIp` is its address.
    Vpc,
}

/// A network file that cannot be used: what is wrong, its place in the file, and the JSON path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{path}: {message} (line {line}, column {column})")]
pub struct NetworkError {
    /// What is wrong: lowercase, one line.
    pub message: String,
    /// 1-based line of the offending value in the network file (in an endpoint policy given as a string, in
    /// that policy's text).
    pub line: usize,
    /// 1-based column of the offending value, counted in characters.
    pub column: usize,
    /// JSON path of the offending value, e.g. `$.client.private_route.kind`.
    pub path: String,
    /// What would be valid instead, where the reader can say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Network {
    /// Parse and check a network file. `base` is the folder that relative feed paths (`cenr`,
    /// `aws_ip_ranges`, `feeds`) are read from; without it, a file naming a feed is an error.
    ///
    /// A feed path is read only inside `base` (no `..`, no absolute path, no link out of it), only if it is a
    /// regular file, and up to 64 MiB; an error about a feed never quotes its text. See
    /// [`Network::parse_allowing_feeds`] to allow feed files elsewhere.
    pub fn parse(text: &str, base: Option<&Path>) -> Result<Network, NetworkError> {
        read::parse(text, base, &[])
    }

    /// Parse and check a network whose feeds (`cenr`, `aws_ip_ranges`, `feeds`) are given as texts keyed by the
    /// names the network uses for them; nothing is read from disk.
    pub fn parse_with_feeds(
        text: &str,
        feeds: &crate::map::Texts,
    ) -> Result<Network, NetworkError> {
        read::parse_from(text, read::Feeds::Given(feeds))
    }

    /// [`Network::parse`], where the feed files `feeds` (named by the user, as `presign --feed` does) may also be
    /// read wherever they are when the network file names them (by a path that leads to the same file).
    pub fn parse_allowing_feeds(
        text: &str,
        base: Option<&Path>,
        feeds: &[std::path::PathBuf],
    ) -> Result<Network, NetworkError> {
        let allowed: Vec<std::path::PathBuf> =
            feeds.iter().filter_map(|f| f.canonicalize().ok()).collect();
        read::parse(text, base, &allowed)
    }

    /// Read, parse and check the network file at `path`; feeds are read relative to its folder. At most one
    /// byte more than the document limit is read: a longer file (or one that never ends) is refused by it.
    pub fn load(path: &Path) -> Result<Network, NetworkError> {
        use std::io::Read;
        let limit = crate::limits::Limits::default().max_document_bytes;
        let mut text = String::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(limit as u64 + 1).read_to_string(&mut text))
            .map_err(|e| NetworkError {
                message: format!("cannot read `{}`: {e}", path.display()),
                line: 1,
                column: 1,
                path: "$".into(),
                help: None,
            })?;
        read::parse(&text, path.parent(), &[])
    }

    /// The user-profile ARN both steps are authorized on: `arn:aws:sagemaker:REGION:ACCOUNT:user-profile/DOMAIN/PROFILE`.
    pub fn resource_arn(&self) -> String {
        format!(
            "arn:aws:sagemaker:{}:{}:user-profile/{}/{}",
            self.region, self.account, self.domain_id, self.user_profile
        )
    }

    /// The SageMaker API host (§6.3).
    pub fn api_host(&self) -> String {
        format!("api.sagemaker.{}.amazonaws.com", self.region)
    }

    /// The Studio host of the domain (§6.1).
    pub fn studio_host(&self) -> String {
        format!("{}.studio.{}.sagemaker.aws", self.domain_id, self.region)
    }

    /// The VPC's endpoint of `role`, if the network has a VPC with that endpoint.
    pub fn endpoint(&self, role: EndpointRole) -> Option<&Endpoint> {
        let vpc = self.vpc.as_ref()?;
        match role {
            EndpointRole::Api => vpc.api.as_ref(),
            EndpointRole::Studio => vpc.studio.as_ref(),
        }
    }

    /// The first forwarded name that covers `host`, if any.
    pub fn forwarded(&self, host: &str) -> Option<&str> {
        self.client
            .dns_forwarding
            .iter()
            .find(|f| covers(f, host))
            .map(String::as_str)
    }
}

/// Whether forwarding `name` sends queries for `host` to the inbound resolver: `x` and `*.x` cover `x`'s
/// subdomains (DNS forwarding rules are per domain); `x` also covers `x` itself.
pub(crate) fn covers(name: &str, host: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    match name.strip_prefix("*.") {
        Some(domain) => host.len() > domain.len() && host.ends_with(&format!(".{domain}")),
        None => host == name || host.ends_with(&format!(".{name}")),
    }
}

#[cfg(test)]
mod tests {
    use super::covers;

    #[test]
    fn forwarding_covers_subdomains() {
        assert!(covers(
            "*.studio.eu-west-1.sagemaker.aws",
            "d-abc123.studio.eu-west-1.sagemaker.aws"
        ));
        assert!(covers(
            "studio.eu-west-1.sagemaker.aws",
            "d-abc123.studio.eu-west-1.sagemaker.aws"
        ));
        assert!(covers(
            "API.sagemaker.eu-west-1.amazonaws.com.",
            "api.sagemaker.eu-west-1.amazonaws.com"
        ));
        assert!(!covers(
            "*.studio.eu-west-1.sagemaker.aws",
            "studio.eu-west-1.sagemaker.aws"
        ));
        assert!(!covers(
            "api.sagemaker.eu-west-1.amazonaws.com",
            "api.sagemaker.eu-west-2.amazonaws.com"
        ));
        assert!(!covers("sagemaker.aws", "notsagemaker.aws"));
    }
}
