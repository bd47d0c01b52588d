//! From a network to the two requests of the presigned-URL flow: name resolution, route, endpoint reached and the
//! request context with exactly the keys AWS includes (docs/SEMANTICS.md §5.2, §6.2, §6.3, §6.5).

use super::addr::{show_net, show_nets, touches_private};
use super::{ACTION, CreateVia, EgressKind, Endpoint, EndpointRole, Network, RouteKind};
use crate::context::{Context, ContextValue, Request, Scalar};
use ipnet::IpNet;
use serde::Serialize;
use std::fmt;

/// The two steps of the flow (§6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StepKind {
    /// `CreatePresignedDomainUrl` to the SageMaker API.
    Create,
    /// Every request of the browser to the Studio host, re-authorized as `CreatePresignedDomainUrl`.
    Use,
}

impl fmt::Display for StepKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StepKind::Create => "create",
            StepKind::Use => "use",
        })
    }
}

/// Where a step's request arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// The public regional endpoint; `aws:SourceIp` is each address of `source_ips` (§5.2 row 1).
    Public {
        /// The public addresses the request may leave from (the egress addresses, or the console's), as CIDR
        /// blocks; a block stands for every address in it, each decided.
        source_ips: Vec<IpNet>,
    },
    /// An interface VPC endpoint; `aws:VpcSourceIp` is each address of `source_ips` (§5.2 row 2).
    Endpoint {
        /// Which of the two SageMaker endpoints: its policy is the one that applies.
        role: EndpointRole,
        /// The endpoint's id: the step's `aws:SourceVpce`.
        id: String,
        /// The id of the VPC that holds it: the step's `aws:SourceVpc`.
        vpc: String,
        /// The addresses the endpoint sees (the private route's `source_ip`, the client's address, or the
        /// calling service's), as CIDR blocks, each address decided.
        source_ips: Vec<IpNet>,
    },
    /// The request never arrives (a private address with no private route, or no internet egress).
    Unreachable,
}

/// One step of the flow, derived from the network, before any policy is consulted.
#[derive(Debug, Clone)]
pub struct DerivedStep {
    /// Which step of the flow this is.
    pub step: StepKind,
    /// The host name the request goes to: `api.sagemaker.REGION.amazonaws.com` to create,
    /// `DOMAIN.studio.REGION.sagemaker.aws` to use.
    pub host: String,
    /// Where the request arrives, with the source addresses that vary over it; it decides which network keys
    /// the context holds.
    pub reach: Reach,

    /// The path in plain words, one sentence per hop.
    pub path: Vec<String>,
    /// The request with every context key except the address that varies over `reach`'s `source_ips`.
    pub request: Request,
}

/// `aws:SourceIp`, canonical spelling.
pub const SOURCE_IP: &str = "aws:SourceIp";
/// `aws:VpcSourceIp`, canonical spelling.
pub const VPC_SOURCE_IP: &str = "aws:VpcSourceIp";
/// `aws:SourceVpc`, canonical spelling.
pub const SOURCE_VPC: &str = "aws:SourceVpc";
/// `aws:SourceVpce`, canonical spelling.
pub const SOURCE_VPCE: &str = "aws:SourceVpce";
/// `aws:ViaAWSService`, canonical spelling.
pub const VIA_AWS_SERVICE: &str = "aws:ViaAWSService";

impl DerivedStep {
    /// The endpoint reached as the presign record names it (docs/FORMATS.md §4): the endpoint id, `public`, or `None` when
    /// unreachable.
    pub fn endpoint(&self) -> Option<&str> {
        match &self.reach {
            Reach::Public { .. } => Some("public"),
            Reach::Endpoint { id, .. } => Some(id),
            Reach::Unreachable => None,
        }
    }

    /// The context key that varies over a range of addresses, and the range.
    pub fn varying(&self) -> Option<(&'static str, &[IpNet])> {
        match &self.reach {
            Reach::Public { source_ips } => Some((SOURCE_IP, source_ips)),
            Reach::Endpoint { source_ips, .. } => Some((VPC_SOURCE_IP, source_ips)),
            Reach::Unreachable => None,
        }
    }

    /// Every context key the step's requests carry, in canonical spelling; empty when unreachable.
    pub fn context_keys(&self) -> Vec<&'static str> {
        match &self.reach {
            Reach::Public { .. } => vec![SOURCE_IP, VIA_AWS_SERVICE],
            Reach::Endpoint { .. } => vec![SOURCE_VPC, SOURCE_VPCE, VIA_AWS_SERVICE, VPC_SOURCE_IP],
            Reach::Unreachable => Vec::new(),
        }
    }

    /// The request for one address of the varying range (the template itself when unreachable).
    pub fn request_at(&self, ip: std::net::IpAddr) -> Request {
        let mut r = self.request.clone();
        if let Some((key, _)) = self.varying() {
            // An address always satisfies the IP type check.
            let _ = r.context.insert(
                key,
                ContextValue::One(Scalar::String(crate::ip::addr_text(ip))),
            );
        }
        r
    }
}

/// Derive both steps: `[create, use]`.
pub fn derive(net: &Network) -> Vec<DerivedStep> {
    let create = match net.create.via {
        CreateVia::Client => client_step(net, StepKind::Create, EndpointRole::Api),
        CreateVia::Console => console_step(net),
        CreateVia::Vpc => vpc_step(net),
    };
    vec![
        create,
        client_step(net, StepKind::Use, EndpointRole::Studio),
    ]
}

fn template(net: &Network, reach: &Reach) -> Request {
    let mut ctx = Context::new();
    // The keys and values below always pass the context's type checks; an error would only drop a key.
    match reach {
        Reach::Public { .. } => {
            let _ = ctx.insert(VIA_AWS_SERVICE, ContextValue::One(Scalar::Bool(false)));
        }
        Reach::Endpoint { id, vpc, .. } => {
            let _ = ctx.insert(SOURCE_VPCE, ContextValue::One(Scalar::String(id.clone())));
            let _ = ctx.insert(SOURCE_VPC, ContextValue::One(Scalar::String(vpc.clone())));
            let _ = ctx.insert(VIA_AWS_SERVICE, ContextValue::One(Scalar::Bool(false)));
        }
        Reach::Unreachable => {}
    }
    for (k, v) in net.context.iter() {
        if ctx.get(k).is_none() {
            let _ = ctx.insert(k, v.clone());
        }
    }
    Request::new(ACTION, &net.resource_arn())
        .principal(&net.principal)
        .context(ctx)
}

fn service(role: EndpointRole) -> &'static str {
    match role {
        EndpointRole::Api => "SageMaker API",
        EndpointRole::Studio => "SageMaker Studio",
    }
}

fn endpoint_ips(e: &Endpoint) -> String {
    if e.ips.is_empty() {
        String::new()
    } else {
        let ips: Vec<String> = e.ips.iter().map(|&a| crate::ip::addr_text(a)).collect();
        format!(" ({})", ips.join(", "))
    }
}

fn arrive(role: EndpointRole, e: &Endpoint, vpc: &str) -> String {
    let policy = if e.policy.is_some() {
        ", whose endpoint policy applies"
    } else {
        " (default full-access endpoint policy)"
    };
    format!(
        "reaches the {} interface endpoint {} in {vpc}{policy}",
        service(role),
        e.id
    )
}

/// The public route from the client, shared by client steps and console creation: the egress addresses and a
/// sentence, or why there is none.
fn public_route(net: &Network) -> Result<(Vec<IpNet>, String), String> {
    match &net.client.egress {
        Some(e) => {
            let nets = e.nets();
            let shown = show_nets(&nets);
            let s = match e.kind {
                EgressKind::Zscaler => {
                    format!(
                        "sent to the internet through Zscaler, leaving from {shown} (shared by every Zscaler tenant)"
                    )
                }
                EgressKind::Nat => {
                    format!("sent to the internet through the corporate NAT, leaving from {shown}")
                }
                EgressKind::Direct => format!("sent to the internet directly from {shown}"),
            };
            Ok((nets, s))
        }
        None if !touches_private(&net.client.ip) => Ok((
            vec![net.client.ip],
            format!(
                "sent to the internet directly from {}",
                show_net(&net.client.ip)
            ),
        )),
        None => Err(format!(
            "no route to the internet: the network has no `client.egress` and the client's address {} is private, so the request cannot reach the public endpoint",
            show_net(&net.client.ip)
        )),
    }
}

fn client_step(net: &Network, step: StepKind, role: EndpointRole) -> DerivedStep {
    let host = match role {
        EndpointRole::Api => net.api_host(),
        EndpointRole::Studio => net.studio_host(),
    };
    let client = show_net(&net.client.ip);
    let mut path = Vec::new();
    let endpoint = net.endpoint(role).filter(|e| e.private_dns);
    let vpc_id = net.vpc.as_ref().map_or("", |v| v.id.as_str());
    let zpa = net
        .client
        .private_route
        .as_ref()
        .is_some_and(|r| r.kind == RouteKind::Zpa);
    // 1. Resolution.
    let private: Option<&Endpoint> = if net.client.in_vpc {
        path.push(format!(
            "client {client} in {vpc_id} asks the VPC resolver for {host}"
        ));
        match endpoint {
            Some(e) => {
                path.push(format!(
                    "answered with the private IPs of {}{}",
                    e.id,
                    endpoint_ips(e)
                ));
                Some(e)
            }
            None => {
                path.push(format!(
                    "answered with public addresses: {vpc_id} has no {} endpoint with private DNS",
                    service(role)
                ));
                None
            }
        }
    } else {
        if zpa && net.forwarded(&host).is_some() {
            path.push(format!(
                "client {client} looks up {host}, a Zscaler Private Access application segment"
            ));
        } else {
            path.push(format!("client {client} asks corporate DNS for {host}"));
        }
        match (net.forwarded(&host), endpoint) {
            (Some(name), Some(e)) => {
                let resolver = net.vpc.as_ref().map(|v| {
                    v.inbound_resolver
                        .iter()
                        .map(|&a| crate::ip::addr_text(a))
                        .collect::<Vec<_>>()
                        .join(", ")
                });
                match resolver.filter(|r| !r.is_empty()) {
                    Some(r) => path.push(format!(
                        "forwarded (`{name}`) to the Route 53 Resolver inbound endpoint {r}, answered with the private IPs of {}{}",
                        e.id,
                        endpoint_ips(e)
                    )),
                    None if zpa => path.push(format!(
                        "resolved (`{name}`) by the ZPA App Connector through the resolver of {vpc_id}, answered with the private IPs of {}{}",
                        e.id,
                        endpoint_ips(e)
                    )),
                    None => path.push(format!("answered with the private IPs of {}{}", e.id, endpoint_ips(e))),
                }
                Some(e)
            }
            (_, Some(e)) => {
                path.push(format!(
                    "not forwarded to the VPC: public DNS answers with the public {} addresses ({} has private DNS, but only resolvers in {vpc_id} see it)",
                    service(role),
                    e.id
                ));
                None
            }
            (_, None) => {
                path.push(format!(
                    "not forwarded to the VPC: public DNS answers with the public {} addresses",
                    service(role)
                ));
                None
            }
        }
    };
    // 2. Route, and 3. arrival.
    let reach = match private {
        Some(e) => {
            let source = if net.client.in_vpc {
                path.push(format!("sent inside {vpc_id} from {client}"));
                Some(net.client.ip)
            } else if let Some(r) = &net.client.private_route {
                let src = r.source_ip.unwrap_or(net.client.ip);
                let bypass = match &net.client.egress {
                    Some(eg) if eg.kind == EgressKind::Zscaler && r.kind != RouteKind::Zpa => {
                        " (private addresses bypass Zscaler's internet forwarding)"
                    }
                    _ => "",
                };
                let assumed = if r.source_ip.is_none() {
                    "; aws:VpcSourceIp is taken to be the client's address (docs/SEMANTICS.md §5.4, uncertain)"
                } else {
                    ""
                };
                path.push(match r.kind {
                    RouteKind::Zpa => format!(
                        "sent through Zscaler Private Access; the App Connector opens the connection from {}{assumed}",
                        show_net(&src)
                    ),
                    kind => format!("sent over {} from {}{bypass}{assumed}", kind.name(), show_net(&src)),
                });
                Some(src)
            } else {
                path.push(format!(
                    "no private route from the client to {vpc_id} (no `client.private_route`): the connection to the endpoint's private IPs fails"
                ));
                None
            };
            match source {
                Some(src) => {
                    path.push(arrive(role, e, vpc_id));
                    Reach::Endpoint {
                        role,
                        id: e.id.clone(),
                        vpc: vpc_id.to_string(),
                        source_ips: vec![src],
                    }
                }
                None => Reach::Unreachable,
            }
        }
        None => match public_route(net) {
            Ok((source_ips, s)) => {
                path.push(s);
                path.push(format!(
                    "reaches the public {} endpoint; aws:SourceIp is the egress address",
                    service(role)
                ));
                Reach::Public { source_ips }
            }
            Err(s) => {
                path.push(s);
                Reach::Unreachable
            }
        },
    };
    DerivedStep {
        step,
        request: template(net, &reach),
        host,
        reach,
        path,
    }
}

/// Creation by the AWS console: the console calls the public API for the user, and `aws:SourceIp` is the
/// browser's public egress address (§6.5, §7.14, UNCERTAIN).
fn console_step(net: &Network) -> DerivedStep {
    let host = net.api_host();
    let mut path = vec![
        format!(
            "the user opens Studio from the SageMaker console in a browser at {}",
            show_net(&net.client.ip)
        ),
        format!("the console calls CreatePresignedDomainUrl for the user on the public API {host}"),
    ];
    let route = match net.create.source_ip {
        Some(ip) => Ok((
            vec![ip],
            format!(
                "the browser's public address is {} (create.source_ip)",
                show_net(&ip)
            ),
        )),
        None => public_route(net).map(|(ips, s)| (ips, format!("the browser's traffic is {s}"))),
    };
    let reach = match route {
        Ok((source_ips, s)) => {
            path.push(s);
            path.push(
                "reaches the public SageMaker API endpoint; aws:SourceIp is taken to be the browser's public egress address (docs/SEMANTICS.md §7.14, uncertain)"
                    .to_string(),
            );
            Reach::Public { source_ips }
        }
        Err(s) => {
            path.push(s);
            Reach::Unreachable
        }
    };
    DerivedStep {
        step: StepKind::Create,
        request: template(net, &reach),
        host,
        reach,
        path,
    }
}

/// The addresses a VPC service may have when the network does not say (RFC 1918).
const VPC_SPACE: [&str; 3] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];

/// Creation by a service inside the VPC, through the SageMaker API endpoint (§6.5, BLOG1 parts 2 and 3).
fn vpc_step(net: &Network) -> DerivedStep {
    let host = net.api_host();
    let vpc_id = net.vpc.as_ref().map_or("", |v| v.id.as_str());
    let mut path = Vec::new();
    let reach = match net.endpoint(EndpointRole::Api) {
        Some(e) => {
            let sources: Vec<IpNet> = match net.create.source_ip {
                Some(src) => {
                    path.push(format!(
                        "a service in {vpc_id} at {} calls CreatePresignedDomainUrl on {host}",
                        show_net(&src)
                    ));
                    vec![src]
                }
                None => {
                    path.push(format!(
                        "a service in {vpc_id} calls CreatePresignedDomainUrl on {host}; its address is not given (`create.source_ip`), so every private IPv4 address (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16) is decided"
                    ));
                    VPC_SPACE
                        .iter()
                        .filter_map(|s| crate::policy::value::parse_cidr(s).ok())
                        .collect()
                }
            };
            if e.private_dns {
                path.push(format!(
                    "the VPC resolver answers with the private IPs of {}{}",
                    e.id,
                    endpoint_ips(e)
                ));
            } else {
                path.push(format!(
                    "private DNS is off on {}: the service calls the endpoint by its endpoint-specific DNS name",
                    e.id
                ));
            }
            path.push(arrive(EndpointRole::Api, e, vpc_id));
            Reach::Endpoint {
                role: EndpointRole::Api,
                id: e.id.clone(),
                vpc: vpc_id.to_string(),
                source_ips: sources,
            }
        }
        // The reader refuses `via: vpc` without an API endpoint.
        None => {
            path.push("a service in the VPC cannot call the API: the network has no SageMaker API endpoint".into());
            Reach::Unreachable
        }
    };
    DerivedStep {
        step: StepKind::Create,
        request: template(net, &reach),
        host,
        reach,
        path,
    }
}
