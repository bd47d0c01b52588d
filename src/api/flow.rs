//! `presign` and `reach` on a compiled set: the presigned-URL flow along a network path, and the exact origins
//! from which the URL can be created and used (docs/network.md, docs/reach.md).

use super::case::parse_request;
use super::place::{offset_of_line_char, place};
use super::set::Compiled;
use super::{Answer, ApiError, read_input};
use crate::analyse::{ReachQuery, ReachStep, reach};
use crate::compile::{CompiledPolicy, compile_endpoint_policy};
use crate::limits::Limits;
use crate::network::{EndpointRole, Network, NetworkError, PresignReport, presign};
use crate::policy::Policy;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::collections::BTreeMap;

/// `{"network": NETWORK, "feeds": {"NAME": TEXT}}`: a network (the Network contract, as an object or a string
/// holding its text) and the texts of the feeds it names (`cenr`, `aws_ip_ranges`), keyed by the name it uses.
/// Nothing is read from disk.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresignInput<'a> {
    #[serde(borrow)]
    pub network: &'a RawValue,
    #[serde(default)]
    pub feeds: BTreeMap<String, String>,
}

/// Either a network (as for `presign`: the principal, the user profile and the two endpoints with their policies
/// come from it) or a request template with the endpoints:
/// `{"request": REQUEST, "api_endpoint": {"id": ..., "policy": ...}, "studio_endpoint": {...}}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReachInput<'a> {
    #[serde(default, borrow)]
    pub network: Option<&'a RawValue>,
    #[serde(default)]
    pub feeds: BTreeMap<String, String>,
    #[serde(default, borrow)]
    pub request: Option<&'a RawValue>,
    #[serde(default, borrow)]
    pub api_endpoint: Option<ReachEndpoint<'a>>,
    #[serde(default, borrow)]
    pub studio_endpoint: Option<ReachEndpoint<'a>>,
}

/// An endpoint id and, optionally, its policy (object or text); without one, the default full-access policy.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReachEndpoint<'a> {
    pub id: String,
    #[serde(default, borrow)]
    pub policy: Option<&'a RawValue>,
}

/// The answer of [`Compiled::reach`].
#[derive(Debug, Clone, Serialize)]
pub struct Reached {
    pub steps: Vec<ReachStep>,
}

fn network_text(raw: &RawValue) -> Result<String, Vec<ApiError>> {
    let t = raw.get();
    if t.starts_with('"') {
        serde_json::from_str::<String>(t).map_err(|e| vec![ApiError::new(e.to_string())])
    } else {
        Ok(t.to_string())
    }
}

fn network(raw: &RawValue, feeds: &BTreeMap<String, String>) -> Result<Network, Vec<ApiError>> {
    let text = network_text(raw)?;
    Network::parse_with_feeds(&text, feeds).map_err(|e: NetworkError| {
        let at = offset_of_line_char(&text, e.line, e.column);
        vec![ApiError {
            help: e.help,
            path: Some(e.path.replacen('$', "$.network", 1)),
            place: Some(place(&text, at, at)),
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
        Some(raw) => {
            let text = network_text(raw)?;
            let policy = Policy::parse_with(&text, &Limits::default()).map_err(|err| {
                err.diagnostics
                    .into_iter()
                    .map(|d| ApiError {
                        code: Some(d.code),
                        help: d.help,
                        path: Some(format!("$.{field}.policy")),
                        place: Some(super::place::of_span(&text, d.span)),
                        ..ApiError::new(d.message)
                    })
                    .collect::<Vec<_>>()
            })?;
            Some(compile_endpoint_policy(policy).map_err(|err| {
                vec![ApiError {
                    path: Some(format!("$.{field}.policy")),
                    place: Some(super::place::of_span(&text, err.diagnostic.span)),
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
            let i: PresignInput<'_> = read_input(input)?;
            let net = network(i.network, &i.feeds)?;
            Ok(presign(&self.set, &net))
        };
        run().into()
    }

    /// The exact origins (public addresses, endpoints, VPCs) from which the URL can be created and used: the
    /// `reach --json` record.
    pub fn reach(&self, input: &str) -> Answer<Reached> {
        let run = || -> Result<Reached, Vec<ApiError>> {
            let i: ReachInput<'_> = read_input(input)?;
            let q = match (i.network, i.request) {
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
                    let text = r.get();
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
