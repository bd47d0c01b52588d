//! `presign` and `reach` on a compiled set: the presigned-URL flow along a network path, and the exact origins
//! from which the URL can be created and used (docs/network.md, docs/reach.md).

use super::case::parse_request;
use super::input::{Doc, Reader};
use super::place::{offset_of_line_char, place};
use super::set::Compiled;
use super::{Answer, ApiError};
use crate::analyse::{ReachQuery, ReachStep, reach};
use crate::compile::{CompiledPolicy, compile_endpoint_policy};
use crate::limits::Limits;
use crate::map::Texts;
use crate::network::{EndpointRole, Network, NetworkError, PresignReport, presign};
use crate::policy::Policy;
use serde::Serialize;

/// `{"network": NETWORK, "feeds": {"NAME": TEXT}}`: a network (the Network contract, as an object or a string
/// holding its text) and the texts of the feeds it names (`cenr`, `aws_ip_ranges`), keyed by the name it uses.
/// Nothing is read from disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresignInput<'a> {
    /// The network scenario (docs/FORMATS.md §3); places in its errors are in this text, their paths under
    /// `$.network`.
    pub network: Doc<'a>,
    /// Feed texts by the name the network gives them (its `cenr` or `aws_ip_ranges` value): a Zscaler CENR JSON
    /// or AWS's `ip-ranges.json` (docs/FORMATS.md §3, Feeds). A name the network uses and this map lacks is an
    /// error; empty when the network names no feed.
    pub feeds: Texts,
}

/// Either a network (as for `presign`: the principal, the user profile and the two endpoints with their policies
/// come from it) or a request template with the endpoints:
/// `{"request": REQUEST, "api_endpoint": {"id": ..., "policy": ...}, "studio_endpoint": {...}}`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReachInput<'a> {
    /// A network scenario (docs/FORMATS.md §3): the request template and both endpoints come from it. Give it
    /// alone (with `feeds`), or not at all.
    pub network: Option<Doc<'a>>,
    /// The feed texts the network names, as [`PresignInput::feeds`].
    pub feeds: Texts,
    /// Without a network: the request template (the Case contract's `request`, docs/FORMATS.md §1) whose
    /// principal, action, resource and context every origin shares; reach varies only the network keys.
    pub request: Option<Doc<'a>>,
    /// Without a network: the VPC endpoint of the `create` step (the SageMaker API), if there is one.
    pub api_endpoint: Option<ReachEndpoint<'a>>,
    /// Without a network: the VPC endpoint of the `use` step (Studio), if there is one.
    pub studio_endpoint: Option<ReachEndpoint<'a>>,
}

/// An endpoint id and, optionally, its policy (object or text); without one, the default full-access policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReachEndpoint<'a> {
    /// The endpoint's id (`vpce-...`): the `aws:SourceVpce` of requests through it.
    pub id: String,
    /// The endpoint's policy; `None` is AWS's default, which allows everything.
    pub policy: Option<Doc<'a>>,
}

impl<'a> PresignInput<'a> {
    /// Read presign's input; `network` is required.
    pub fn read(text: &'a str) -> Result<Self, Vec<ApiError>> {
        let arena = crate::parse::json::Arena::new();
        let (r, root) = Reader::parse(text, &arena)?;
        let (mut network, mut fs) = (None, Texts::new());
        for m in r.object(&root, "$", &["network", "feeds"])? {
            match m.key {
                "network" => network = Some(r.doc(&m.value)),
                _ => fs = r.strings(&m.value, "$.feeds")?,
            }
        }
        let Some(network) = network else {
            return Err(vec![
                ApiError::new("invalid input: missing field `network`").path("$.network"),
            ]);
        };
        Ok(PresignInput { network, feeds: fs })
    }
}

impl<'a> ReachInput<'a> {
    /// Read reach's input.
    pub fn read(text: &'a str) -> Result<Self, Vec<ApiError>> {
        let arena = crate::parse::json::Arena::new();
        let (r, root) = Reader::parse(text, &arena)?;
        let mut out = ReachInput::default();
        let fields = [
            "network",
            "feeds",
            "request",
            "api_endpoint",
            "studio_endpoint",
        ];
        for m in r.object(&root, "$", &fields)? {
            let v = &m.value;
            let endpoint = |path: &str| -> Result<Option<ReachEndpoint<'a>>, Vec<ApiError>> {
                if v.is_null() {
                    return Ok(None);
                }
                let (mut id, mut policy) = (None, None);
                for e in r.object(v, path, &["id", "policy"])? {
                    match e.key {
                        "id" => id = Some(r.string(&e.value, &format!("{path}.id"))?),
                        _ => policy = r.opt_doc(&e.value),
                    }
                }
                let Some(id) = id else {
                    return Err(vec![
                        ApiError::new("invalid input: missing field `id`")
                            .path(format!("{path}.id")),
                    ]);
                };
                Ok(Some(ReachEndpoint {
                    id: id.into_owned(),
                    policy,
                }))
            };
            match m.key {
                "network" => out.network = r.opt_doc(v),
                "feeds" => out.feeds = r.strings(v, "$.feeds")?,
                "request" => out.request = r.opt_doc(v),
                "api_endpoint" => out.api_endpoint = endpoint("$.api_endpoint")?,
                _ => out.studio_endpoint = endpoint("$.studio_endpoint")?,
            }
        }
        Ok(out)
    }
}

/// The answer of [`Compiled::reach`].
#[derive(Debug, Clone, Serialize)]
pub struct Reached {
    /// One entry per step, `create` then `use`, each with every class of origin and its decision
    /// (docs/FORMATS.md §5, docs/reach.md): together a step's classes cover every origin exactly once.
    pub steps: Vec<ReachStep>,
}

fn network(doc: &Doc<'_>, feeds: &Texts) -> Result<Network, Vec<ApiError>> {
    let text = doc.text();
    Network::parse_with_feeds(text, feeds).map_err(|e: NetworkError| {
        let at = offset_of_line_char(text, e.line, e.column);
        vec![ApiError {
            help: e.help,
            path: Some(e.path.replacen('$', "$.network", 1)),
            place: Some(place(text, at, at)),
            ..ApiError::new(e.message)
        }]
    })
}

fn endpoint(
    e: Option<ReachEndpoint<'_>>,
    field: &str,
) -> Result<Option<(String, Option<CompiledPolicy>)>, Vec<ApiError>> {
    let Some(e) = e else { return Ok(None) };
    let policy = match e.policy {
        None => None,
        Some(doc) => {
            let text = doc.text();
            let policy = Policy::parse_with(text, &Limits::default()).map_err(|err| {
                err.diagnostics
                    .into_iter()
                    .map(|d| ApiError {
                        code: Some(d.code),
                        help: d.help,
                        path: Some(format!("$.{field}.policy")),
                        place: Some(super::place::of_span(text, d.span)),
                        ..ApiError::new(d.message)
                    })
                    .collect::<Vec<_>>()
            })?;
            Some(compile_endpoint_policy(policy).map_err(|err| {
                vec![ApiError {
                    path: Some(format!("$.{field}.policy")),
                    place: Some(super::place::of_span(text, err.diagnostic.span)),
                    ..ApiError::new(err.diagnostic.message.clone())
                }]
            })?)
        }
    };
    Ok(Some((e.id, policy)))
}

impl Compiled {
    /// Both steps of the presigned-URL flow along the network: the `presign --json` record.
    pub fn presign(&self, input: &str) -> Answer<PresignReport> {
        let run = || -> Result<PresignReport, Vec<ApiError>> {
            let i = PresignInput::read(input)?;
            let net = network(&i.network, &i.feeds)?;
            Ok(presign(&self.set, &net))
        };
        run().into()
    }

    /// The exact origins (public addresses, endpoints, VPCs) from which the URL can be created and used: the
    /// `reach --json` record.
    pub fn reach(&self, input: &str) -> Answer<Reached> {
        let run = || -> Result<Reached, Vec<ApiError>> {
            let i = ReachInput::read(input)?;
            let q = match (&i.network, &i.request) {
                (Some(n), None) if i.api_endpoint.is_none() && i.studio_endpoint.is_none() => {
                    let net = network(n, &i.feeds)?;
                    let ep = |role| {
                        net.endpoint(role)
                            .map(|e| (e.id.clone(), e.policy.as_ref().map(|p| p.compiled.clone())))
                    };
                    let mut template =
                        crate::Request::new(crate::network::ACTION, &net.resource_arn());
                    template.principal = Some(net.principal.clone());
                    ReachQuery {
                        template,
                        api_endpoint: ep(EndpointRole::Api),
                        studio_endpoint: ep(EndpointRole::Studio),
                    }
                }
                (None, Some(r)) => {
                    let text = r.raw;
                    let template = parse_request(text, &Limits::default()).map_err(|e| {
                        let at = offset_of_line_char(text, e.line, e.column);
                        vec![ApiError {
                            path: Some(e.path),
                            place: Some(place(text, at, at)),
                            ..ApiError::new(e.message)
                        }]
                    })?;
                    ReachQuery {
                        template,
                        api_endpoint: endpoint(i.api_endpoint, "api_endpoint")?,
                        studio_endpoint: endpoint(i.studio_endpoint, "studio_endpoint")?,
                    }
                }
                _ => {
                    return Err(vec![ApiError {
                        help: Some("give `network` alone, or `request` with `api_endpoint` and `studio_endpoint`".into()),
                        ..ApiError::new("reach needs either a network or a request")
                    }]);
                }
            };
            Ok(Reached {
                steps: reach(&self.set, &q),
            })
        };
        run().into()
    }
}
