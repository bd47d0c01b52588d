//! Reading a network file with the spanned JSON parser: every error names the JSON path and the line:column, and
//! an inconsistent network is an error rather than a guess.

use super::feeds::{self, CenrFilter, FeedRange, IpRangesFilter};
use super::{
    AuthMode, Client, Create, CreateVia, Egress, EgressKind, Endpoint, EndpointPolicy,
    EndpointRole, Network, NetworkError, PrivateRoute, RouteKind, Vpc, addr, covers,
};
use crate::compile::compile_endpoint_policy;
use crate::limits::Limits;
use crate::parse::json::{self, Member, Node, Value};
use crate::parse::placed::{BadField, bad_field};
use crate::policy::Policy;
use crate::policy::value::{parse_cidr, parse_ip};
use crate::span::line_col;
use ipnet::IpNet;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

const ROOT: [&str; 14] = [
    "name",
    "domain",
    "region",
    "account",
    "principal",
    "domain_id",
    "user_profile",
    "vpc",
    "client",
    "create",
    "feeds",
    "description",
    "notes",
    "$schema",
];
const DOMAIN: [&str; 1] = ["auth_mode"];
const VPC: [&str; 3] = ["id", "endpoints", "inbound_resolver"];
const ENDPOINTS: [&str; 2] = ["api", "studio"];
const ENDPOINT: [&str; 4] = ["id", "private_dns", "ips", "policy"];
const CLIENT: [&str; 5] = ["ip", "in_vpc", "dns_forwarding", "private_route", "egress"];
const ROUTE: [&str; 2] = ["kind", "source_ip"];
const EGRESS: [&str; 4] = ["kind", "ips", "cenr", "aws_ip_ranges"];
const CREATE: [&str; 2] = ["via", "source_ip"];
const FEEDS: [&str; 2] = ["cenr", "aws_ip_ranges"];
const CENR: [&str; 4] = ["path", "cloud", "continent", "city"];
const IP_RANGES: [&str; 3] = ["path", "service", "region"];

pub(super) fn parse(
    text: &str,
    base: Option<&Path>,
    allowed: &[std::path::PathBuf],
) -> Result<Network, NetworkError> {
    parse_from(text, Feeds::Folder(base, allowed))
}

/// Where the feed files a network names come from: a folder on disk (with the files the user named, readable
/// wherever they are), or texts the caller gives by name (the WASM playground, which reads no files).
#[derive(Clone, Copy)]
pub(super) enum Feeds<'t> {
    Folder(Option<&'t Path>, &'t [std::path::PathBuf]),
    Given(&'t crate::map::Texts),
}

pub(super) fn parse_from(text: &str, feeds: Feeds<'_>) -> Result<Network, NetworkError> {
    let arena = crate::parse::json::Arena::new();
    let root = json::parse(text, &arena, &Limits::default()).map_err(|e| {
        let (line, column) = e.line_col(text);
        NetworkError {
            message: e.message,
            line,
            column,
            path: "$".into(),
            help: e.help,
        }
    })?;
    let r = Reader { text, feeds };
    r.network(&root).map_err(|e| *e)
}

struct Reader<'t> {
    text: &'t str,
    feeds: Feeds<'t>,
}

/// An object's members, checked against the fields it may have.
struct Obj<'n, 'a> {
    node: &'n Node<'a>,
    members: &'n [Member<'a>],
    path: String,
}

impl<'n, 'a> Obj<'n, 'a> {
    fn get(&self, name: &str) -> Option<&'n Node<'a>> {
        self.members
            .iter()
            .find(|m| m.key == name)
            .map(|m| &m.value)
    }

    fn at(&self, name: &str) -> String {
        format!("{}.{name}", self.path)
    }
}

/// A reader's result: the error boxed, so that each `?` moves a pointer (the WebAssembly module is smaller).
type R<T> = Result<T, Box<NetworkError>>;

impl Reader<'_> {
    fn err(&self, node: &Node<'_>, path: &str, message: impl Into<String>) -> Box<NetworkError> {
        self.err_at(node.span.start as usize, path, message)
    }

    fn err_at(&self, offset: usize, path: &str, message: impl Into<String>) -> Box<NetworkError> {
        let (line, column) = line_col(self.text, offset);
        Box::new(NetworkError {
            message: message.into(),
            line,
            column,
            path: path.to_string(),
            help: None,
        })
    }

    fn help(
        &self,
        node: &Node<'_>,
        path: &str,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Box<NetworkError> {
        let mut e = self.err(node, path, message);
        e.help = Some(help.into());
        e
    }

    fn object<'n, 'a>(&self, node: &'n Node<'a>, path: &str, fields: &[&str]) -> R<Obj<'n, 'a>> {
        let Value::Object(members) = &node.value else {
            return Err(self.err(
                node,
                path,
                format!("expected an object, found {}", node.kind_name()),
            ));
        };
        if let Some((m, bad)) = bad_field(members, fields) {
            let message = match bad {
                BadField::Unknown => {
                    let list = fields
                        .iter()
                        .map(|f| format!("`{f}`"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    format!("unknown field `{}`; valid fields here are {list}", m.key)
                }
                BadField::Twice => format!("field `{}` appears twice", m.key),
            };
            return Err(self.err_at(
                m.key_span.start as usize,
                &format!("{path}.{}", m.key),
                message,
            ));
        }
        Ok(Obj {
            node,
            members,
            path: path.to_string(),
        })
    }

    fn string(&self, node: &Node<'_>, path: &str) -> R<String> {
        match &node.value {
            Value::String(s) => Ok(s.to_string()),
            v => Err(self.err(
                node,
                path,
                format!("expected a string, found {}", v.kind_name()),
            )),
        }
    }

    fn required<'n, 'a>(&self, o: &Obj<'n, 'a>, name: &str, what: &str) -> R<&'n Node<'a>> {
        o.get(name).ok_or_else(|| {
            let where_ = if o.path == "$" {
                "the network".to_string()
            } else {
                format!("`{}`", o.path.strip_prefix("$.").unwrap_or(&o.path))
            };
            self.err(
                o.node,
                &o.at(name),
                format!("{where_} has no `{name}` ({what})"),
            )
        })
    }

    fn req_string(&self, o: &Obj<'_, '_>, name: &str, what: &str) -> R<String> {
        let n = self.required(o, name, what)?;
        self.string(n, &o.at(name))
    }

    /// A required string that `ok` accepts; otherwise the error "`VALUE` `bad`" at it. One function for the
    /// network's checked fields (the WebAssembly module is smaller than with the check written out at each).
    fn req_checked(
        &self,
        o: &Obj<'_, '_>,
        name: &str,
        what: &str,
        ok: fn(&str) -> bool,
        bad: &str,
    ) -> R<String> {
        let n = self.required(o, name, what)?;
        let path = o.at(name);
        let s = self.string(n, &path)?;
        if ok(&s) {
            Ok(s)
        } else {
            Err(self.err(n, &path, format!("`{s}` {bad}")))
        }
    }

    fn bool(&self, node: &Node<'_>, path: &str) -> R<bool> {
        node.as_bool().ok_or_else(|| {
            self.err(
                node,
                path,
                format!("expected `true` or `false`, found {}", node.kind_name()),
            )
        })
    }

    /// A string or an array of strings.
    fn strings<'n, 'a>(
        &self,
        node: &'n Node<'a>,
        path: &str,
    ) -> R<Vec<(String, &'n Node<'a>, String)>> {
        match &node.value {
            Value::String(s) => Ok(vec![(s.to_string(), node, path.to_string())]),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, it)| {
                    let p = format!("{path}[{i}]");
                    Ok((self.string(it, &p)?, it, p))
                })
                .collect(),
            v => Err(self.err(
                node,
                path,
                format!(
                    "expected a string or an array of strings, found {}",
                    v.kind_name()
                ),
            )),
        }
    }

    fn array<'n, 'a>(&self, node: &'n Node<'a>, path: &str) -> R<&'n [Node<'a>]> {
        node.as_array().ok_or_else(|| {
            self.err(
                node,
                path,
                format!("expected an array, found {}", node.kind_name()),
            )
        })
    }

    fn ip(&self, node: &Node<'_>, path: &str) -> R<IpAddr> {
        let s = self.string(node, path)?;
        parse_ip(&s).ok_or_else(|| {
            let msg = if parse_cidr(&s).is_ok() {
                format!("`{s}` is a range; this field is one IP address")
            } else {
                format!(
                    "`{s}` is not an IP address; write for example `10.0.0.10` or `2001:db8::10`"
                )
            };
            self.err(node, path, msg)
        })
    }

    /// An address (a /32 or /128 block) or a CIDR block.
    fn net(&self, node: &Node<'_>, path: &str) -> R<IpNet> {
        let s = self.string(node, path)?;
        parse_cidr(&s).map_err(|e| self.err(node, path, e.to_string()))
    }

    fn public_net(&self, node: &Node<'_>, path: &str, what: &str) -> R<IpNet> {
        let n = self.net(node, path)?;
        if addr::is_private(&n) {
            return Err(self.help(
                node,
                path,
                format!("`{}` is a private address, but {what} is a public address as AWS sees it", addr::show_net(&n)),
                "AWS never sees private addresses as `aws:SourceIp` (docs/SEMANTICS.md §5.3); give the public address the traffic leaves from",
            ));
        }
        Ok(n)
    }

    fn network(&self, root: &Node<'_>) -> R<Network> {
        let o = self.object(root, "$", &ROOT)?;
        let name = self.req_string(&o, "name", "the scenario's name")?;
        let region = self.req_checked(
            &o,
            "region",
            "for example `eu-west-1`",
            valid_region,
            "is not an AWS region name; write for example `eu-west-1`",
        )?;
        let account = self.req_checked(
            &o,
            "account",
            "the 12-digit account of the domain",
            crate::context::is_account_id,
            "is not a 12-digit account id",
        )?;
        let principal = self.req_checked(
            &o,
            "principal",
            "the ARN of the role or user that creates the URL",
            |p| crate::policy::arn::split(p).is_some(),
            "is not an ARN; write for example `arn:aws:iam::111122223333:role/DataSci`",
        )?;
        let domain_id = self.req_checked(
            &o,
            "domain_id",
            "the Studio domain, for example `d-abc123`",
            valid_domain,
            "is not a domain id; a domain id is `d-` then lowercase letters, digits and `-` (docs/SEMANTICS.md §6.1)",
        )?;
        let user_profile = self.req_checked(
            &o,
            "user_profile",
            "the user profile name",
            valid_profile,
            "is not a user profile name; use letters, digits and `-`, at most 63 (docs/SEMANTICS.md §6.1)",
        )?;
        let vpc = match o.get("vpc") {
            Some(n) => Some(self.vpc(n)?),
            None => None,
        };
        let client_node = self.required(&o, "client", "where the user's browser and CLI sit")?;
        let mut net = Network {
            name,
            region,
            account,
            principal,
            domain_id,
            user_profile,
            vpc,
            client: Client {
                ip: IpNet::default(),
                in_vpc: false,
                dns_forwarding: Vec::new(),
                private_route: None,
                egress: None,
            },
            create: Create {
                via: CreateVia::Client,
                source_ip: None,
            },
            shared_ranges: Vec::new(),
            auth_mode: AuthMode::Iam,
            auth_mode_at: (1, 1),
            context: crate::context::Context::new(),
            source: Arc::from(self.text),
        };
        if let Some(n) = o.get("domain") {
            let d = self.object(n, "$.domain", &DOMAIN)?;
            if let Some(m) = d.get("auth_mode") {
                net.auth_mode_at = line_col(self.text, m.span.start as usize);
                net.auth_mode = match self.string(m, "$.domain.auth_mode")?.as_str() {
                    "iam" => AuthMode::Iam,
                    "sso" => AuthMode::Sso,
                    other => {
                        return Err(self.err(
                            m,
                            "$.domain.auth_mode",
                            format!("unknown authentication mode `{other}`; valid modes are `iam` and `sso`"),
                        ));
                    }
                };
            }
        }
        net.client = self.client(client_node, &net)?;
        if let Some(n) = o.get("create") {
            net.create = self.create(n, &net)?;
        }
        if let Some(n) = o.get("feeds") {
            let f = self.object(n, "$.feeds", &FEEDS)?;
            if let Some(list) = f.get("cenr") {
                for (i, item) in self.list(list, "$.feeds.cenr")?.iter().enumerate() {
                    net.shared_ranges
                        .extend(self.cenr(item, &format!("$.feeds.cenr[{i}]"))?);
                }
            }
            if let Some(list) = f.get("aws_ip_ranges") {
                for (i, item) in self.list(list, "$.feeds.aws_ip_ranges")?.iter().enumerate() {
                    net.shared_ranges
                        .extend(self.ip_ranges(item, &format!("$.feeds.aws_ip_ranges[{i}]"))?);
                }
            }
        }
        Ok(net)
    }

    /// One item or an array of items.
    fn list<'n, 'a>(&self, node: &'n Node<'a>, _path: &str) -> R<Vec<&'n Node<'a>>> {
        Ok(match &node.value {
            Value::Array(items) => items.iter().collect(),
            _ => vec![node],
        })
    }

    fn vpc(&self, node: &Node<'_>) -> R<Vpc> {
        let o = self.object(node, "$.vpc", &VPC)?;
        let id = self.req_checked(
            &o,
            "id",
            "the VPC that holds the endpoints, `vpc-...`",
            |id| id.starts_with("vpc-") && id.len() > 4,
            "is not a VPC id; write for example `vpc-0shared00000000001`",
        )?;
        let (mut api, mut studio) = (None, None);
        if let Some(e) = o.get("endpoints") {
            let eo = self.object(e, "$.vpc.endpoints", &ENDPOINTS)?;
            if let Some(n) = eo.get("api") {
                api = Some(self.endpoint(n, "$.vpc.endpoints.api")?);
            }
            if let Some(n) = eo.get("studio") {
                studio = Some(self.endpoint(n, "$.vpc.endpoints.studio")?);
            }
            if let (Some(a), Some(s), Some(n)) = (&api, &studio, eo.get("studio")) {
                if a.id == s.id {
                    return Err(self.help(
                        n,
                        "$.vpc.endpoints.studio.id",
                        format!("the API and Studio endpoints are both `{}`", s.id),
                        "they are two endpoints of two services (`com.amazonaws.REGION.sagemaker.api` and `aws.sagemaker.REGION.studio`, docs/SEMANTICS.md §6.3)",
                    ));
                }
            }
        }
        let mut inbound_resolver = Vec::new();
        if let Some(n) = o.get("inbound_resolver") {
            for (i, it) in self.array(n, "$.vpc.inbound_resolver")?.iter().enumerate() {
                inbound_resolver.push(self.ip(it, &format!("$.vpc.inbound_resolver[{i}]"))?);
            }
        }
        Ok(Vpc {
            id,
            api,
            studio,
            inbound_resolver,
        })
    }

    fn endpoint(&self, node: &Node<'_>, path: &str) -> R<Endpoint> {
        let o = self.object(node, path, &ENDPOINT)?;
        let id = self.req_checked(
            &o,
            "id",
            "the endpoint id, `vpce-...`",
            |id| id.starts_with("vpce-") && id.len() > 5,
            "is not a VPC endpoint id; write for example `vpce-0api0000000000001`",
        )?;
        let private_dns = match o.get("private_dns") {
            Some(n) => self.bool(n, &o.at("private_dns"))?,
            None => true,
        };
        let mut ips = Vec::new();
        if let Some(n) = o.get("ips") {
            for (i, it) in self.array(n, &o.at("ips"))?.iter().enumerate() {
                ips.push(self.ip(it, &format!("{}[{i}]", o.at("ips")))?);
            }
        }
        let policy = match o.get("policy") {
            Some(n) => Some(self.policy(n, &o.at("policy"))?),
            None => None,
        };
        Ok(Endpoint {
            id,
            private_dns,
            ips,
            policy,
        })
    }

    /// An endpoint policy: a JSON object (parsed from its exact text in the file) or a string holding the policy.
    fn policy(&self, node: &Node<'_>, path: &str) -> R<EndpointPolicy> {
        let (text, inline_at) = match &node.value {
            Value::Object(_) => (
                self.text.get(node.span.range()).unwrap_or(""),
                Some(node.span.start as usize),
            ),
            Value::String(s) => (*s, None),
            v => return Err(self.err(
                node,
                path,
                format!(
                    "a policy must be a JSON object or a string holding the policy text, found {}",
                    v.kind_name()
                ),
            )),
        };
        let place = |offset: usize, message: String, help: Option<String>| match inline_at {
            Some(base) => {
                let mut e = self.err_at(base + offset, path, message);
                e.help = help;
                e
            }
            None => {
                let (line, column) = line_col(text, offset);
                Box::new(NetworkError {
                    message: format!("{message} (in the policy text)"),
                    line,
                    column,
                    path: path.to_string(),
                    help,
                })
            }
        };
        let policy = Policy::parse(text).map_err(|e| match e.diagnostics.first() {
            Some(d) => place(d.span.start as usize, d.message.clone(), d.help.clone()),
            None => place(0, "invalid policy".into(), None),
        })?;
        let compiled = compile_endpoint_policy(policy).map_err(|e| {
            place(
                e.diagnostic.span.start as usize,
                e.diagnostic.message.clone(),
                e.diagnostic.help.clone(),
            )
        })?;
        Ok(EndpointPolicy {
            compiled,
            inline_at,
        })
    }

    fn client(&self, node: &Node<'_>, net: &Network) -> R<Client> {
        let o = self.object(node, "$.client", &CLIENT)?;
        let ip_node = self.required(&o, "ip", "the client's address, for example `10.20.1.5`")?;
        let ip = self.net(ip_node, "$.client.ip")?;
        let in_vpc = match o.get("in_vpc") {
            Some(n) => self.bool(n, "$.client.in_vpc")?,
            None => false,
        };
        if in_vpc && net.vpc.is_none() {
            return Err(self.err(
                o.get("in_vpc").unwrap_or(node),
                "$.client.in_vpc",
                "the client is in the VPC, but the network has no `vpc`",
            ));
        }
        let private_route = match o.get("private_route") {
            Some(n) => {
                if net.vpc.is_none() {
                    return Err(self.help(
                        n,
                        "$.client.private_route",
                        "a private route leads to a VPC, but the network has no `vpc`",
                        "add `vpc` with its endpoints and inbound resolver, or remove `client.private_route`",
                    ));
                }
                if in_vpc {
                    return Err(self.help(
                        n,
                        "$.client.private_route",
                        "a client in the VPC reaches its endpoints directly",
                        "remove `client.private_route` or `client.in_vpc`",
                    ));
                }
                Some(self.route(n)?)
            }
            None => None,
        };
        let mut dns_forwarding = Vec::new();
        if let Some(n) = o.get("dns_forwarding") {
            let items = self.array(n, "$.client.dns_forwarding")?;
            let zpa = private_route
                .as_ref()
                .is_some_and(|r| r.kind == RouteKind::Zpa);
            let resolver = net
                .vpc
                .as_ref()
                .is_some_and(|v| !v.inbound_resolver.is_empty());
            if !items.is_empty() && !resolver && !zpa && !in_vpc {
                return Err(self.help(
                    n,
                    "$.client.dns_forwarding",
                    "names are forwarded to the Route 53 Resolver inbound endpoint, but the network has no `vpc.inbound_resolver`",
                    "add the inbound endpoint's addresses as `vpc.inbound_resolver` (DNS servers outside the VPC cannot forward to the VPC+2 resolver, docs/SEMANTICS.md §6.3)",
                ));
            }
            for (i, it) in items.iter().enumerate() {
                let path = format!("$.client.dns_forwarding[{i}]");
                let name = self.string(it, &path)?;
                if !valid_dns_name(&name) {
                    return Err(self.err(it, &path, format!("`{name}` is not a DNS name; write for example `*.studio.{}.sagemaker.aws`", net.region)));
                }
                // The only names an endpoint of the model answers: the API host and the Studio zone.
                let studio_zone = format!("studio.{}.sagemaker.aws", net.region);
                let lower = name.trim_end_matches('.').to_ascii_lowercase();
                let hosts = [
                    (net.api_host(), EndpointRole::Api),
                    (net.studio_host(), EndpointRole::Studio),
                ];
                let in_studio_zone =
                    lower.ends_with(&format!(".{studio_zone}")) || lower == studio_zone;
                if !in_studio_zone && !hosts.iter().any(|(h, _)| covers(&name, h)) {
                    return Err(self.help(
                        it,
                        &path,
                        format!(
                            "`{name}` is forwarded to the VPC, but no endpoint of the network answers it: the flow uses `{}` and `{}`",
                            net.api_host(),
                            net.studio_host()
                        ),
                        format!(
                            "forward `{}` (SageMaker API endpoint) and `*.{studio_zone}` (Studio endpoint), or remove the name",
                            net.api_host()
                        ),
                    ));
                }
                for (host, role) in hosts {
                    let role_covers = match role {
                        EndpointRole::Api => covers(&name, &host),
                        EndpointRole::Studio => covers(&name, &host) || in_studio_zone,
                    };
                    if !role_covers {
                        continue;
                    }
                    match net.endpoint(role) {
                        Some(e) if e.private_dns => {}
                        Some(e) => {
                            return Err(self.help(
                                it,
                                &path,
                                format!("`{name}` is forwarded to the VPC, but the {role} endpoint `{}` has `private_dns` false, so nothing there answers `{host}` privately", e.id),
                                "enable private DNS on the endpoint (or a private hosted zone for the name), or stop forwarding the name",
                            ));
                        }
                        None => {
                            let field = match role {
                                EndpointRole::Api => "api",
                                EndpointRole::Studio => "studio",
                            };
                            return Err(self.help(
                                it,
                                &path,
                                format!("`{name}` is forwarded to the VPC, but the network has no {role} endpoint (`vpc.endpoints.{field}`) to answer `{host}`"),
                                format!("add `vpc.endpoints.{field}` with `private_dns` true, or stop forwarding the name"),
                            ));
                        }
                    }
                }
                dns_forwarding.push(name);
            }
        }
        let egress = match o.get("egress") {
            Some(n) => Some(self.egress(n, ip)?),
            None => None,
        };
        Ok(Client {
            ip,
            in_vpc,
            dns_forwarding,
            private_route,
            egress,
        })
    }

    fn route(&self, node: &Node<'_>) -> R<PrivateRoute> {
        let o = self.object(node, "$.client.private_route", &ROUTE)?;
        let kn = self.required(&o, "kind", "`direct-connect`, `vpn` or `zpa`")?;
        let kind = match self.string(kn, "$.client.private_route.kind")?.as_str() {
            "direct-connect" => RouteKind::DirectConnect,
            "vpn" => RouteKind::Vpn,
            "zpa" => RouteKind::Zpa,
            other => {
                return Err(self.err(
                    kn,
                    "$.client.private_route.kind",
                    format!("unknown private route kind `{other}`; valid kinds are `direct-connect`, `vpn` and `zpa`"),
                ))
            }
        };
        let source_ip = match o.get("source_ip") {
            Some(n) => Some(self.net(n, "$.client.private_route.source_ip")?),
            None => None,
        };
        Ok(PrivateRoute { kind, source_ip })
    }

    fn egress(&self, node: &Node<'_>, client_ip: IpNet) -> R<Egress> {
        let o = self.object(node, "$.client.egress", &EGRESS)?;
        let kn = self.required(&o, "kind", "`zscaler`, `nat` or `direct`")?;
        let kind = match self.string(kn, "$.client.egress.kind")?.as_str() {
            "zscaler" => EgressKind::Zscaler,
            "nat" => EgressKind::Nat,
            "direct" => EgressKind::Direct,
            other => return Err(self.err(
                kn,
                "$.client.egress.kind",
                format!(
                    "unknown egress kind `{other}`; valid kinds are `zscaler`, `nat` and `direct`"
                ),
            )),
        };
        let mut ips = Vec::new();
        if let Some(n) = o.get("ips") {
            for (i, it) in self.array(n, "$.client.egress.ips")?.iter().enumerate() {
                ips.push(self.public_net(
                    it,
                    &format!("$.client.egress.ips[{i}]"),
                    "an egress address",
                )?);
            }
        }
        let mut feeds = Vec::new();
        if let Some(n) = o.get("cenr") {
            feeds.extend(self.cenr(n, "$.client.egress.cenr")?);
        }
        if let Some(n) = o.get("aws_ip_ranges") {
            feeds.extend(self.ip_ranges(n, "$.client.egress.aws_ip_ranges")?);
        }
        if ips.is_empty() && feeds.is_empty() {
            match kind {
                EgressKind::Zscaler | EgressKind::Nat => {
                    let feeds = o.get("cenr").or(o.get("aws_ip_ranges"));
                    return Err(match feeds {
                        Some(f) => self.err(f, &o.path, "the feed's filter leaves no egress ranges"),
                        None => self.help(
                            node,
                            "$.client.egress.ips",
                            format!("a `{}` egress needs its public addresses", kind.name()),
                            "list them in `ips`, or name a feed: `cenr` (Zscaler's CENR JSON) or `aws_ip_ranges`",
                        ),
                    });
                }
                EgressKind::Direct => {
                    if addr::touches_private(&client_ip) {
                        return Err(self.help(
                            kn,
                            "$.client.egress",
                            format!("a `direct` egress sends the client's own address `{}`, which is private and never reaches AWS", addr::show_net(&client_ip)),
                            "give the public addresses in `client.egress.ips`, or use kind `nat`",
                        ));
                    }
                    ips.push(client_ip);
                }
            }
        }
        Ok(Egress { kind, ips, feeds })
    }

    fn read_feed(&self, node: &Node<'_>, path: &str, file: &str) -> R<String> {
        let (base, allowed) = match self.feeds {
            Feeds::Folder(base, allowed) => (base, allowed),
            Feeds::Given(texts) => {
                return texts.get(file).cloned().ok_or_else(|| {
                    let mut names: Vec<&str> = texts.keys().map(String::as_str).collect();
                    names.truncate(8);
                    let given = if names.is_empty() {
                        "no feeds were given".to_string()
                    } else {
                        format!("the feeds given are `{}`", names.join("`, `"))
                    };
                    self.err(node, path, format!("feed `{file}` was not given; {given}"))
                });
            }
        };
        let Some(base) = base else {
            return Err(self.err(node, path, format!("cannot read feed `{file}`: the network was not read from a file, so relative paths have no folder")));
        };
        super::feedfile::read(base, file, allowed).map_err(|m| self.err(node, path, m))
    }

    fn feed_err(
        &self,
        node: &Node<'_>,
        path: &str,
        file: &str,
        e: feeds::FeedError,
    ) -> Box<NetworkError> {
        self.err(node, path, super::feedfile::describe(file, self.text, &e))
    }

    /// The strings of an optional filter field (one string or a list); empty when absent.
    fn names(&self, o: &Obj<'_, '_>, k: &str) -> R<Vec<String>> {
        match o.get(k) {
            Some(n) => Ok(self
                .strings(n, &o.at(k))?
                .into_iter()
                .map(|(s, _, _)| s)
                .collect()),
            None => Ok(Vec::new()),
        }
    }

    /// `"file.json"` or `{"path": ..., "cloud": ..., "continent": ..., "city": ...}`.
    fn cenr(&self, node: &Node<'_>, path: &str) -> R<Vec<FeedRange>> {
        let (file, filter) = match &node.value {
            Value::String(s) => (s.to_string(), CenrFilter::default()),
            _ => {
                let o = self.object(node, path, &CENR)?;
                let file = self.req_string(
                    &o,
                    "path",
                    "the CENR JSON file, relative to the network file",
                )?;
                let names = |k: &str| self.names(&o, k);
                (
                    file,
                    CenrFilter {
                        clouds: names("cloud")?,
                        continents: names("continent")?,
                        cities: names("city")?,
                    },
                )
            }
        };
        let text = self.read_feed(node, path, &file)?;
        feeds::parse_cenr(&text, &filter).map_err(|e| self.feed_err(node, path, &file, e))
    }

    /// `"ip-ranges.json"` or `{"path": ..., "service": ..., "region": ...}`.
    fn ip_ranges(&self, node: &Node<'_>, path: &str) -> R<Vec<FeedRange>> {
        let (file, filter) = match &node.value {
            Value::String(s) => (s.to_string(), IpRangesFilter::default()),
            _ => {
                let o = self.object(node, path, &IP_RANGES)?;
                let file = self.req_string(
                    &o,
                    "path",
                    "the ip-ranges.json file, relative to the network file",
                )?;
                let names = |k: &str| self.names(&o, k);
                (
                    file,
                    IpRangesFilter {
                        services: names("service")?,
                        regions: names("region")?,
                    },
                )
            }
        };
        let text = self.read_feed(node, path, &file)?;
        feeds::parse_aws_ip_ranges(&text, &filter).map_err(|e| self.feed_err(node, path, &file, e))
    }

    fn create(&self, node: &Node<'_>, net: &Network) -> R<Create> {
        let o = self.object(node, "$.create", &CREATE)?;
        let via = match o.get("via") {
            None => CreateVia::Client,
            Some(n) => match self.string(n, "$.create.via")?.as_str() {
                "client" => CreateVia::Client,
                "console" => CreateVia::Console,
                "vpc" => CreateVia::Vpc,
                other => return Err(self.err(
                    n,
                    "$.create.via",
                    format!(
                        "unknown creator `{other}`; valid values are `client`, `console` and `vpc`"
                    ),
                )),
            },
        };
        let source_node = o.get("source_ip");
        let source_ip = match (via, source_node) {
            (CreateVia::Vpc, Some(n)) => Some(self.net(n, "$.create.source_ip")?),
            (CreateVia::Console, Some(n)) => Some(self.public_net(n, "$.create.source_ip", "the browser's address for the console")?),
            (CreateVia::Client, Some(n)) => {
                return Err(self.help(
                    n,
                    "$.create.source_ip",
                    "`create.source_ip` is only for `via` `vpc` or `console`",
                    "a client call follows the client's own path; set `client.ip` and `client.egress` instead",
                ))
            }
            (_, None) => None,
        };
        if via == CreateVia::Vpc {
            let at = o.get("via").unwrap_or(node);
            match &net.vpc {
                None => {
                    return Err(self.help(
                        at,
                        "$.create.via",
                        "creation by a service in the VPC goes through the SageMaker API endpoint, but the network has no `vpc`",
                        "add `vpc` with `endpoints.api`",
                    ))
                }
                Some(v) if v.api.is_none() => {
                    return Err(self.help(
                        at,
                        "$.create.via",
                        "creation by a service in the VPC goes through the SageMaker API endpoint, but the network has no `vpc.endpoints.api`",
                        "add `vpc.endpoints.api` (service `com.amazonaws.REGION.sagemaker.api`)",
                    ))
                }
                Some(_) => {}
            }
        }
        Ok(Create { via, source_ip })
    }
}

fn valid_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

fn valid_domain(s: &str) -> bool {
    s.len() <= 63
        && s.strip_prefix("d-").is_some_and(|rest| {
            !rest.is_empty()
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !rest.ends_with('-')
        })
}

fn valid_profile(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn valid_dns_name(s: &str) -> bool {
    let s = s.strip_prefix("*.").unwrap_or(s).trim_end_matches('.');
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}
