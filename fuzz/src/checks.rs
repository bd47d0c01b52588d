//! The property each fuzz target checks, as a plain function of its input, so that `tests/it/regressions.rs`
//! replays a minimized crash through exactly the check that found it. A failed property panics with a message
//! that says which property and on what input.
//!
//! Shared through `#[path]`: uses `super::reference` and `super::canonical`, so the including module must
//! declare those two next to this one. Depends on `iamgate` and `serde_json` only.

use super::{canonical, reference};
use iamgate::analyse::{OTHER, Origin, ReachQuery, Values, reach};
use iamgate::api::case::{Case, DecisionRecord, decide_case};
use iamgate::internals::json::{self, Node, Value as JValue};
use iamgate::policy::operator::Family;
use iamgate::validate::{PolicyKind, validate};
use iamgate::{ContextValue, Limits, Policy, PolicySet, Request, Scalar};
use ipnet::IpNet;
use serde_json::Value;
use std::net::IpAddr;

/// Small limits, so that every limit is reached by small inputs too.
pub const SMALL_LIMITS: Limits = Limits {
    max_document_bytes: 4096,
    max_depth: 6,
    max_statements: 4,
    max_pattern_bytes: 64,
};

/// `parse_no_panic`: whatever the bytes, parsing, validating, rendering errors, compiling and deciding return.
pub fn parse_no_panic(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for limits in [Limits::default(), SMALL_LIMITS] {
        let arena = json::Arena::new();
        match json::parse(text, &arena, &limits) {
            Ok(node) => {
                let _ = format!("{node:?}");
            }
            Err(e) => {
                assert!(
                    e.offset <= text.len(),
                    "json error offset {} past the end",
                    e.offset
                );
                let _ = e.line_col(text);
                assert!(
                    !e.message.contains('\n'),
                    "multi-line message: {:?}",
                    e.message
                );
            }
        }
        match Policy::parse_with(text, &limits) {
            Ok(p) => {
                for kind in PolicyKind::ALL {
                    for d in validate(&p, kind) {
                        let _ = d.render(text, "fuzz.json");
                        assert!(
                            d.span.end as usize <= text.len(),
                            "span past the end: {d:?}"
                        );
                    }
                }
                if let Ok(set) = PolicySet::builder().identity(p).build() {
                    let req = Request::new(
                        "sagemaker:CreatePresignedDomainUrl",
                        "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123/alice",
                    )
                    .principal("arn:aws:iam::111122223333:role/DataSci");
                    let d = set.decide(&req);
                    assert_eq!(set.explain(&req).decision, d);
                }
            }
            Err(e) => {
                assert!(
                    !e.diagnostics.is_empty(),
                    "a policy error without diagnostics"
                );
                let _ = e.to_string();
                let _ = e.render("fuzz.json");
                for d in &e.diagnostics {
                    assert!(d.span.start <= d.span.end, "inverted span {d:?}");
                }
            }
        }
    }
}

/// Our JSON value as serde_json's, numbers through serde_json's own parser (`float_roundtrip`), duplicate keys
/// resolved as serde_json does (the last wins). `None` when a number is out of serde_json's range.
fn to_serde(node: &Node<'_>) -> Option<Value> {
    Some(match &node.value {
        JValue::Null => Value::Null,
        JValue::Bool(b) => Value::Bool(*b),
        JValue::Number(n) => serde_json::from_str::<Value>(n).ok()?,
        JValue::String(s) => Value::String(s.to_string()),
        JValue::Array(items) => Value::Array(items.iter().map(to_serde).collect::<Option<_>>()?),
        JValue::Object(members) => {
            let mut m = serde_json::Map::new();
            for mem in *members {
                m.insert(mem.key.to_string(), to_serde(&mem.value)?);
            }
            Value::Object(m)
        }
    })
}

/// Every node's span holds exactly that value's text, and every key span that key's text.
fn check_spans(text: &str, node: &Node<'_>, limits: &Limits) {
    let piece = &text[node.span.range()];
    let arena = json::Arena::new();
    let again = json::parse(piece, &arena, limits).unwrap_or_else(|e| {
        panic!(
            "span {:?} text {piece:?} does not parse alone: {e}",
            node.span
        )
    });
    assert_eq!(
        to_serde(&again),
        to_serde(node),
        "span {:?} holds another value",
        node.span
    );
    match &node.value {
        JValue::Array(items) => items.iter().for_each(|n| check_spans(text, n, limits)),
        JValue::Object(members) => {
            for m in *members {
                let key_text = &text[m.key_span.range()];
                let key: String = serde_json::from_str(key_text).unwrap_or_else(|e| {
                    panic!("key span {:?} holds {key_text:?}: {e}", m.key_span)
                });
                assert_eq!(key, m.key, "key span holds another key");
                check_spans(text, &m.value, limits);
            }
        }
        _ => {}
    }
}

/// `parse_agrees_with_serde`: where serde_json accepts a document, our parser accepts it and reads the same
/// value; where we accept one that serde_json rejects, the reason is one of the documented differences.
pub fn parse_agrees_with_serde(text: &str) {
    // serde_json nests up to 128 levels and has no size limit; lift ours to compare like with like.
    let limits = Limits {
        max_document_bytes: usize::MAX,
        max_depth: 128,
        ..Limits::default()
    };
    let theirs = serde_json::from_str::<Value>(text);
    let arena = json::Arena::new();
    let ours = json::parse(text, &arena, &limits);
    match (&theirs, &ours) {
        (Ok(t), Ok(o)) => {
            let o = to_serde(o).unwrap_or_else(|| {
                panic!("serde_json accepts {text:?} but not one of its numbers alone")
            });
            assert_eq!(&o, t, "different values for {text:?}");
        }
        (Ok(_), Err(e)) => {
            // serde_json's recursion limit counts differently from ours (it may accept depth 128 where the
            // last scalar is our 129th level); only that is allowed.
            assert!(
                e.message.contains("nest"),
                "serde_json accepts {text:?}, we reject it: {e} at {}",
                e.offset
            );
        }
        (Err(t), Ok(o)) => {
            // Documented differences: we accept numbers beyond f64 (1e400) and keep them as written.
            let msg = t.to_string();
            assert!(
                msg.contains("number out of range")
                    || msg.contains("recursion limit")
                    || to_serde(o).is_none(),
                "we accept {text:?}, serde_json rejects it: {msg}"
            );
        }
        (Err(_), Err(_)) => {}
    }
    if let Ok(o) = &ours {
        if text.len() <= 4096 {
            check_spans(text, o, &limits);
        }
    }
}

/// `policy_roundtrip`: a parsed policy, printed canonically and parsed again, is the same AST (spans aside);
/// printing is idempotent.
pub fn policy_roundtrip(text: &str) {
    let Ok(p1) = Policy::parse(text) else {
        return;
    };
    let t2 = canonical::print(&p1);
    let p2 = Policy::parse(&t2).unwrap_or_else(|e| {
        panic!("canonical text does not parse: {e}\noriginal: {text}\ncanonical: {t2}")
    });
    assert_eq!(
        canonical::shape(&p1),
        canonical::shape(&p2),
        "AST changed through canonical JSON\noriginal: {text}\ncanonical: {t2}"
    );
    assert_eq!(canonical::print(&p2), t2, "printing is not idempotent");
}

/// How many SCP levels a case gives (empty levels included).
fn scp_levels(case: &str) -> usize {
    serde_json::from_str::<Value>(case)
        .ok()
        .and_then(|v| v.get("scps").and_then(Value::as_array).map(Vec::len))
        .unwrap_or(0)
}

/// `decide_differential`: for one case line, `decide`, `decide_with_reasons`, `explain` and the naive
/// reference evaluator agree on the decision, and the reasons agree with the reference as a set.
pub fn decide_differential(line: &str) {
    let Ok(case) = Case::parse(line, &Limits::default()) else {
        return;
    };
    let fast = case.set.decide(&case.request);
    let (with_reasons, reasons) = case.set.decide_with_reasons(&case.request);
    let explained = case.set.explain(&case.request);
    let (want, want_reasons) = reference::decide(&case.set, &case.request, scp_levels(line));
    assert_eq!(fast, want, "decide vs reference\ncase: {line}");
    assert_eq!(
        with_reasons, fast,
        "decide_with_reasons vs decide\ncase: {line}"
    );
    assert_eq!(explained.decision, fast, "explain vs decide\ncase: {line}");
    borrowed_agrees(&case.set, &case.request, fast, line);
    assert_eq!(
        reference::sorted(reasons),
        want_reasons,
        "decide_with_reasons reasons vs reference\ncase: {line}"
    );
    assert_eq!(
        reference::sorted(explained.reasons),
        want_reasons,
        "explain reasons vs reference\ncase: {line}"
    );
}

/// `decide_ref` on `req` borrowed as a `RequestRef` (each value as its text) decides as `decide` on the owned
/// form of that text (`RequestRef::to_request`), refusing exactly what it refuses; and as `decide` on `req`
/// itself when every value of `req` is already text (a number or boolean turned into text may read otherwise: the
/// text `0.0` is not a date, the number is).
fn borrowed_agrees(set: &PolicySet, req: &Request, fast: iamgate::Decision, line: &str) {
    use iamgate::{RequestRef, ValueRef};
    let texts: Vec<Vec<&str>> = req
        .context
        .iter()
        .map(|(_, v)| v.as_slice().iter().map(Scalar::text).collect())
        .collect();
    let context: Vec<(&str, ValueRef<'_>)> = req
        .context
        .iter()
        .zip(&texts)
        .map(|((k, v), t)| match (v, t.as_slice()) {
            (ContextValue::One(_), [one]) => (k, ValueRef::One(one)),
            _ => (k, ValueRef::Many(t)),
        })
        .collect();
    let r = RequestRef {
        principal: req.principal.as_deref(),
        action: &req.action,
        resource: &req.resource,
        resource_account: req.resource_account.as_deref(),
        context: &context,
    };
    let got = set.decide_ref(&r);
    // A layout only speeds the lookup of keys: in the request's order, or reversed, the same result.
    for layout in [
        set.key_layout(context.iter().map(|(k, _)| *k)),
        set.key_layout(context.iter().rev().map(|(k, _)| *k)),
    ] {
        assert_eq!(
            set.decide_ref_with(&layout, &r),
            got,
            "decide_ref_with vs decide_ref\ncase: {line}"
        );
    }
    match r.to_request() {
        Ok(owned) => assert_eq!(
            got,
            Ok(set.decide(&owned)),
            "decide_ref vs decide on the same text\ncase: {line}"
        ),
        Err(e) => assert_eq!(
            got,
            Err(e),
            "decide_ref refuses as to_request\ncase: {line}"
        ),
    }
    let all_text = req
        .context
        .iter()
        .all(|(_, v)| v.as_slice().iter().all(|s| matches!(s, Scalar::String(_))));
    if all_text {
        assert_eq!(got, Ok(fast), "decide_ref vs decide\ncase: {line}");
    }
}

/// `batch_json`: every line yields one record that serialises to exactly one JSON line with an `id` and
/// either a `decision` or an `error`; explaining does not change the decision.
pub fn batch_json(data: &[u8]) {
    for raw in data.split(|b| *b == b'\n') {
        // The CLI drops a trailing CR; a line that is not UTF-8 gets its record there before any parsing.
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let line = String::from_utf8_lossy(raw);
        let plain = decide_case(&line, false);
        let explained = decide_case(&line, true);
        assert_eq!(
            plain.decision(),
            explained.decision(),
            "explain changes the decision of {line:?}"
        );
        for record in [&plain, &explained] {
            let out = serde_json::to_string(record)
                .unwrap_or_else(|e| panic!("record does not serialise: {e}"));
            assert!(!out.contains('\n'), "record spans lines: {out}");
            let v: Value = serde_json::from_str(&out)
                .unwrap_or_else(|e| panic!("record is not JSON: {e}: {out}"));
            let obj = v
                .as_object()
                .unwrap_or_else(|| panic!("record is not an object: {out}"));
            assert!(obj.contains_key("id"), "record without id: {out}");
            match record {
                DecisionRecord::Decided { .. } => assert!(obj.contains_key("decision"), "{out}"),
                DecisionRecord::Failed { error, .. } => {
                    assert!(obj.contains_key("error"), "{out}");
                    assert!(
                        error.line >= 1 && error.column >= 1,
                        "error without a place: {out}"
                    );
                    assert!(!error.message.is_empty(), "empty error message: {out}");
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// reach_agrees_with_decide

/// A reach input: a case (policies and the template request) and the two endpoints of the flow. As JSON:
/// `{"case": CASE, "api_endpoint": [ID, POLICY|null] | null, "studio_endpoint": ...}`.
pub fn reach_agrees_with_decide_json(text: &str) {
    let Ok(v) = serde_json::from_str::<Value>(text) else {
        return;
    };
    let Some(case_text) = v.get("case").map(Value::to_string) else {
        return;
    };
    let Ok(case) = Case::parse(&case_text, &Limits::default()) else {
        return;
    };
    let endpoint = |k: &str| -> Result<Option<(String, Option<Policy>)>, ()> {
        match v.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(a)) => {
                let id = a.first().and_then(Value::as_str).ok_or(())?.to_string();
                let policy = match a.get(1) {
                    None | Some(Value::Null) => None,
                    Some(p) => Some(Policy::parse(&p.to_string()).map_err(|_| ())?),
                };
                Ok(Some((id, policy)))
            }
            Some(_) => Err(()),
        }
    };
    let (Ok(api), Ok(studio)) = (endpoint("api_endpoint"), endpoint("studio_endpoint")) else {
        return;
    };
    let levels = scp_levels(&case_text);
    reach_agrees_with_decide(&case.set, &case.request, api, studio, levels, text);
}

const NETWORK_KEYS: [&str; 5] = [
    "aws:SourceIp",
    "aws:SourceVpc",
    "aws:SourceVpce",
    "aws:VpcSourceIp",
    "aws:ViaAWSService",
];

/// Literal values that string conditions on `key` name, and whether some value of `key` could be "named" by a
/// pattern we cannot enumerate (wildcards or variables).
fn named_values(policies: &[&Policy], key: &str) -> Vec<String> {
    let mut out = Vec::new();
    for p in policies {
        for st in &p.statements {
            for c in &st.conditions {
                if !c.key.value.eq_ignore_ascii_case(key) {
                    continue;
                }
                let like = matches!(c.operator.value.base.family(), Family::StringLike);
                if !matches!(
                    c.operator.value.base.family(),
                    Family::String { .. } | Family::StringLike
                ) {
                    continue;
                }
                for v in &c.values {
                    let t = v.value.text();
                    let pattern = like && t.contains(['*', '?']);
                    if !(t.contains("${") || pattern) {
                        out.push(t.to_string());
                    }
                }
            }
        }
    }
    out
}

/// A value of `key` that no string condition could treat as one of its values, if the candidates have one.
fn unnamed_value(policies: &[&Policy], key: &str, prefix: &str) -> Option<String> {
    let candidates = [
        format!("{prefix}0fuzz0unnamed00000"),
        format!("{prefix}9"),
        "zz-unnamed".to_string(),
    ];
    candidates.into_iter().find(|cand| {
        !policies.iter().any(|p| {
            p.statements.iter().any(|st| {
                st.conditions.iter().any(|c| {
                    c.key.value.eq_ignore_ascii_case(key)
                        && match c.operator.value.base.family() {
                            Family::String { ignore_case } => c.values.iter().any(|v| {
                                let t = v.value.text();
                                t.contains("${")
                                    || t == cand
                                    || (ignore_case && t.to_lowercase() == cand.to_lowercase())
                            }),
                            Family::StringLike => c.values.iter().any(|v| {
                                let t = v.value.text();
                                t.contains("${") || like(t, cand)
                            }),
                            _ => false,
                        }
                })
            })
        })
    })
}

/// A plain glob (`*`, `?`), for choosing unnamed values.
fn like(p: &str, v: &str) -> bool {
    let p: Vec<char> = p.chars().collect();
    let v: Vec<char> = v.chars().collect();
    let mut m = vec![false; v.len() + 1];
    m[0] = true;
    for c in &p {
        let mut n = vec![false; v.len() + 1];
        for j in 0..=v.len() {
            n[j] = match c {
                '*' => m[j] || (j > 0 && n[j - 1]),
                '?' => j > 0 && m[j - 1],
                c => j > 0 && m[j - 1] && v[j - 1] == *c,
            };
        }
        m = n;
    }
    m[v.len()]
}

fn probes(nets: &[IpNet]) -> Vec<IpAddr> {
    let mut out = Vec::new();
    for n in nets {
        out.push(n.network());
        out.push(n.broadcast());
    }
    out
}

/// Ranges of one family, sorted, must tile the whole family: no gap, no overlap.
fn assert_tiles(nets: &[IpNet], what: &str) {
    let mut v4: Vec<(u128, u128)> = Vec::new();
    let mut v6: Vec<(u128, u128)> = Vec::new();
    for n in nets {
        match n {
            IpNet::V4(n) => v4.push((
                u32::from(n.network()).into(),
                u32::from(n.broadcast()).into(),
            )),
            IpNet::V6(n) => v6.push((n.network().into(), n.broadcast().into())),
        }
    }
    for (ranges, max, fam) in [
        (&mut v4, u128::from(u32::MAX), "IPv4"),
        (&mut v6, u128::MAX, "IPv6"),
    ] {
        ranges.sort_unstable();
        let mut next: Option<u128> = Some(0);
        for &(lo, hi) in ranges.iter() {
            assert_eq!(
                Some(lo),
                next,
                "{what}: {fam} ranges leave a gap or overlap at {lo:#x}"
            );
            next = hi.checked_add(1);
        }
        assert_eq!(next, max.checked_add(1), "{what}: {fam} ranges stop short");
    }
}

fn in_values(v: &Values, value: &str, named: &[String]) -> bool {
    match v {
        Values::Any => true,
        Values::List(l) => l
            .iter()
            .any(|x| x == value || (x == OTHER && !named.iter().any(|n| n == value))),
    }
}

/// `reach_agrees_with_decide`: the classes of each step tile every origin exactly once, and a concrete origin
/// at both ends of every range of every class decides (with the same reasons) as the class says.
pub fn reach_agrees_with_decide(
    set: &PolicySet,
    template: &Request,
    api: Option<(String, Option<Policy>)>,
    studio: Option<(String, Option<Policy>)>,
    scp_levels: usize,
    input: &str,
) {
    let compile = |e: Option<(String, Option<Policy>)>| match e {
        None => Ok(None),
        Some((id, None)) => Ok(Some((id, None))),
        Some((id, Some(p))) => iamgate::CompiledPolicy::compile(p, iamgate::PolicyRef::Endpoint)
            .map(|c| Some((id, Some(c)))),
    };
    let (Ok(api), Ok(studio)) = (compile(api), compile(studio)) else {
        return;
    };
    let q = ReachQuery {
        template: template.clone(),
        api_endpoint: api.clone(),
        studio_endpoint: studio.clone(),
    };
    let steps = reach(set, &q);
    assert_eq!(steps.len(), 2, "reach gives one entry per step");
    let mut base = template.clone();
    for k in NETWORK_KEYS {
        base.context.remove(k);
    }
    let decide = |set: &PolicySet, ctx: Vec<(&str, Scalar)>| {
        let mut req = base.clone();
        for (k, v) in ctx {
            req.context
                .insert(k, ContextValue::One(v))
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let (d, r) = set.decide_with_reasons(&req);
        let (rd, rr) = reference::decide(set, &req, scp_levels);
        assert_eq!(
            d, rd,
            "decide vs reference inside reach, request {req:?}\ninput: {input}"
        );
        assert_eq!(
            reference::sorted(r.clone()),
            rr,
            "reasons vs reference inside reach, request {req:?}\ninput: {input}"
        );
        (d, reference::sorted(r), req)
    };
    // Values named anywhere: in the set's policies and in the endpoint policies of the query.
    let mut policies: Vec<&Policy> = set.policies().map(|(_, p)| p.policy()).collect();
    policies.extend(
        api.iter()
            .chain(studio.iter())
            .filter_map(|(_, p)| p.as_ref().map(|p| p.policy())),
    );
    let mut vpces = named_values(&policies, "aws:SourceVpce");
    vpces.extend(api.iter().chain(studio.iter()).map(|(id, _)| id.clone()));
    let vpcs = named_values(&policies, "aws:SourceVpc");
    let other_vpce = unnamed_value(&policies, "aws:SourceVpce", "vpce-");
    let other_vpc = unnamed_value(&policies, "aws:SourceVpc", "vpc-");
    for (n, step) in steps.iter().enumerate() {
        let (this, other) = if n == 0 {
            (&api, &studio)
        } else {
            (&studio, &api)
        };
        let public: Vec<IpNet> = step
            .origins
            .iter()
            .filter_map(|o| match o {
                Origin::Public { source_ip, .. } => Some(source_ip.clone()),
                _ => None,
            })
            .flatten()
            .collect();
        assert_tiles(
            &public,
            &format!("public classes in step {n}\ninput: {input}"),
        );
        let fas: Vec<IpNet> = step
            .origins
            .iter()
            .filter_map(|o| match o {
                Origin::ViaAwsService { source_ip, .. } => Some(source_ip.clone()),
                _ => None,
            })
            .flatten()
            .collect();
        if !fas.is_empty() {
            assert_tiles(
                &fas,
                &format!("forward-access-session classes in step {n}\ninput: {input}"),
            );
        }
        // Every (endpoint, VPC) pair we can name concretely is tiled by the endpoint classes.
        let mut pairs: Vec<(String, String)> = Vec::new();
        for e in vpces.iter().cloned().chain(other_vpce.clone()) {
            if other.as_ref().is_some_and(|(id, _)| *id == e) {
                continue;
            }
            for v in vpcs.iter().cloned().chain(other_vpc.clone()) {
                if !pairs.contains(&(e.clone(), v.clone())) {
                    pairs.push((e.clone(), v));
                }
            }
        }
        for (e, v) in &pairs {
            let mut nets = Vec::new();
            for o in &step.origins {
                let Origin::Endpoint {
                    vpce,
                    vpc,
                    vpc_source_ip,
                    decision,
                    reasons,
                } = o
                else {
                    continue;
                };
                if !(in_values(vpce, e, &vpces) && in_values(vpc, v, &vpcs)) {
                    continue;
                }
                nets.extend(vpc_source_ip.iter().copied());
                let through = match this {
                    Some((id, Some(p))) if id == e => set.with_endpoint(Some(p.clone())),
                    _ => set.clone(),
                };
                for ip in probes(vpc_source_ip) {
                    let (d, r, req) = decide(
                        &through,
                        vec![
                            ("aws:SourceVpce", Scalar::String(e.clone())),
                            ("aws:SourceVpc", Scalar::String(v.clone())),
                            ("aws:VpcSourceIp", Scalar::String(ip.to_string())),
                            ("aws:ViaAWSService", Scalar::Bool(false)),
                        ],
                    );
                    assert_eq!(
                        (d, r),
                        (*decision, reference::sorted(reasons.clone())),
                        "endpoint class {o:?} vs request {req:?}\ninput: {input}"
                    );
                }
            }
            assert_tiles(
                &nets,
                &format!("endpoint classes for ({e}, {v}) in step {n}\ninput: {input}"),
            );
        }
        for o in &step.origins {
            match o {
                Origin::Public {
                    source_ip,
                    decision,
                    reasons,
                }
                | Origin::ViaAwsService {
                    source_ip,
                    decision,
                    reasons,
                } => {
                    let fas = matches!(o, Origin::ViaAwsService { .. });
                    for ip in probes(source_ip) {
                        let (d, r, req) = decide(
                            set,
                            vec![
                                ("aws:SourceIp", Scalar::String(ip.to_string())),
                                ("aws:ViaAWSService", Scalar::Bool(fas)),
                            ],
                        );
                        assert_eq!(
                            (d, r),
                            (*decision, reference::sorted(reasons.clone())),
                            "class {o:?} vs request {req:?}\ninput: {input}"
                        );
                    }
                }
                Origin::Endpoint { .. } => {}
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// network_no_panic

/// The policies the network target decides with: an endpoint allow-list, a corporate range, and a Deny that
/// locks out endpoint traffic (docs/SEMANTICS.md §7.1), so that both steps hit conditions on every network key.
const NETWORK_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":"sagemaker:CreatePresignedDomainUrl","Resource":"*",
  "Condition":{"StringEquals":{"aws:SourceVpce":["vpce-0api0000000000001","vpce-0studio000000002"]}}},
 {"Effect":"Allow","Action":"sagemaker:CreatePresignedDomainUrl","Resource":"*",
  "Condition":{"IpAddress":{"aws:SourceIp":["198.51.100.0/24","165.225.0.0/17"]}}},
 {"Effect":"Deny","Action":"*","Resource":"*",
  "Condition":{"NotIpAddressIfExists":{"aws:VpcSourceIp":"10.0.0.0/8"},"BoolIfExists":{"aws:ViaAWSService":"false"}}}]}"#;

/// `network_no_panic`: arbitrary network files (and feeds) parse or fail with a placed error; a parsed network
/// derives its steps, is decided, and its report serialises.
pub fn network_no_panic(data: &[u8]) {
    use iamgate::network::{Network, derive, feeds, presign};
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Network::parse(text, None) {
        Ok(net) => {
            let steps = derive(&net);
            let _ = format!("{steps:?}");
            let policy = Policy::parse(NETWORK_POLICY).unwrap_or_else(|e| panic!("{e}"));
            let set = PolicySet::builder()
                .identity(policy)
                .build()
                .unwrap_or_else(|e| panic!("{e}"));
            let report = presign(&set, &net);
            let json = serde_json::to_string(&report)
                .unwrap_or_else(|e| panic!("report does not serialise: {e}"));
            assert!(!json.is_empty());
        }
        Err(e) => {
            assert!(
                e.line >= 1 && e.column >= 1,
                "network error without a place: {e:?}"
            );
            assert!(!e.message.is_empty());
        }
    }
    let _ = feeds::parse_cenr(text, &feeds::CenrFilter::default());
    let _ = feeds::parse_aws_ip_ranges(text, &feeds::IpRangesFilter::default());
}
