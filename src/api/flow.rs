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
use crate::network::{EndpointRole, Network, NetworkError, PresignReport, presign};
use crate::policy::Policy;
use serde::Serialize;
use std::collections::BTreeMap;

/// `{"network": NETWORK, "feeds": {"NAME": TEXT}}`: a network (the Network contract, as an object or a string
/// holding its text) and the texts of the feeds it names (`cenr`, `aws_ip_ranges`), keyed by the name it uses.
/// Nothing is read from disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresignInput<'a> {
    pub network: Doc<'a>,
    pub feeds: BTreeMap<String, String>,
}

/// Either a network (as for `presign`: the principal, the user profile and the two endpoints with their policies
/// come from it) or a request template with the endpoints:
/// `{"request": REQUEST, "api_endpoint": {"id": ..., "policy": ...}, "studio_endpoint": {...}}`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReachInput<'a> {
    pub network: Option<Doc<'a>>,
    pub feeds: BTreeMap<String, String>,
    pub request: Option<Doc<'a>>,
    pub api_endpoint: Option<ReachEndpoint<'a>>,
    pub studio_endpoint: Option<ReachEndpoint<'a>>,
}

/// An endpoint id and, optionally, its policy (object or text); without one, the default full-access policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReachEndpoint<'a> {
    pub id: String,
    pub policy: Option<Doc<'a>>,
}

impl<'a> PresignInput<'a> {
    /// Read presign's input; `network` is required.
    pub fn read(text: &'a str) -> Result<Self, Vec<ApiError>> {
        let (r, root) = Reader::parse(text)?;
        let (mut network, mut fs) = (None, BTreeMap::new());
        for m in r.object(&root, "$", &["network", "feeds"])? {
            match m.key.as_ref() {
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
        let (r, root) = Reader::parse(text)?;
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
                    match e.key.as_ref() {
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
            match m.key.as_ref() {
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
    pub steps: Vec<ReachStep>,
}

fn network(doc: &Doc<'_>, feeds: &BTreeMap<String, String>) -> Result<Network, Vec<ApiError>> {
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
