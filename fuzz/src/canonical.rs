//! A canonical JSON printer for the policy AST, and a span-free "shape" of the AST for comparisons.
//!
//! Canonical form: keys in grammar order (`Version`, `Id`, `Statement`; `Sid`, `Effect`, `Principal`,
//! `Action`, `Resource`, `Condition`), `Statement` always an array, every list always an array, condition values
//! with their JSON type (numbers as written, booleans bare), no whitespace. Printing what `Policy::parse` built
//! and parsing it again must give the same AST, spans aside: that is the `policy_roundtrip` property.
//!
//! Shared by the fuzz crate and `tests/it/regressions.rs` (through `#[path]`): depends on `iamgate` and
//! `serde_json` only.

use iamgate::policy::{ConditionValue, Policy, Principal, PrincipalKind, Statement, Version};
use serde_json::{Value, json};

fn string(s: &str) -> String {
    // Serialising a &str cannot fail.
    serde_json::to_string(s).unwrap_or_default()
}

fn array<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let items: Vec<String> = items.map(string).collect();
    format!("[{}]", items.join(","))
}

fn kind_name(k: PrincipalKind) -> &'static str {
    match k {
        PrincipalKind::Aws => "AWS",
        PrincipalKind::Federated => "Federated",
        PrincipalKind::Service => "Service",
        PrincipalKind::CanonicalUser => "CanonicalUser",
    }
}

fn version_name(v: &Version) -> &'static str {
    match v {
        Version::V2012_10_17 => "2012-10-17",
        Version::V2008_10_17 => "2008-10-17",
    }
}

fn value(v: &ConditionValue) -> String {
    match v {
        ConditionValue::String(s) => string(s),
        // The number exactly as written: the parser validated its JSON grammar.
        ConditionValue::Number(n) => n.to_string(),
        ConditionValue::Bool(b) => b.to_string(),
    }
}

fn statement(st: &Statement) -> String {
    let mut parts = Vec::new();
    if let Some(sid) = &st.sid {
        parts.push(format!("\"Sid\":{}", string(&sid.value)));
    }
    parts.push(format!(
        "\"Effect\":{}",
        string(&st.effect.value.to_string())
    ));
    if let Some(p) = &st.principal {
        let name = if p.negated {
            "NotPrincipal"
        } else {
            "Principal"
        };
        let body = match &p.principal {
            Principal::Any => string("*"),
            Principal::Map(m) => {
                let entries: Vec<String> = m
                    .iter()
                    .map(|(k, vs)| {
                        format!(
                            "{}:{}",
                            string(kind_name(k.value)),
                            array(vs.iter().map(|v| v.value.as_str()))
                        )
                    })
                    .collect();
                format!("{{{}}}", entries.join(","))
            }
        };
        parts.push(format!("\"{name}\":{body}"));
    }
    let name = if st.action.negated {
        "NotAction"
    } else {
        "Action"
    };
    parts.push(format!(
        "\"{name}\":{}",
        array(st.action.patterns.iter().map(|a| a.value.as_str()))
    ));
    if let Some(r) = &st.resource {
        let name = if r.negated { "NotResource" } else { "Resource" };
        parts.push(format!(
            "\"{name}\":{}",
            array(r.patterns.iter().map(|p| p.value.as_str()))
        ));
    }
    if st.condition_span.is_some() {
        // Conditions are stored flat, in source order; one operator's keys are consecutive because an operator
        // cannot appear twice in one block.
        let mut blocks: Vec<(String, Vec<String>)> = Vec::new();
        for c in &st.conditions {
            let op = c.operator.value.to_string();
            let values: Vec<String> = c.values.iter().map(|v| value(&v.value)).collect();
            let entry = format!("{}:[{}]", string(&c.key.value), values.join(","));
            match blocks.last_mut() {
                Some((last, keys)) if *last == op => keys.push(entry),
                _ => blocks.push((op, vec![entry])),
            }
        }
        let blocks: Vec<String> = blocks
            .into_iter()
            .map(|(op, keys)| format!("{}:{{{}}}", string(&op), keys.join(",")))
            .collect();
        parts.push(format!("\"Condition\":{{{}}}", blocks.join(",")));
    }
    format!("{{{}}}", parts.join(","))
}

/// The policy as canonical JSON text.
pub fn print(p: &Policy) -> String {
    let mut parts = Vec::new();
    if let Some(v) = &p.version {
        parts.push(format!("\"Version\":{}", string(version_name(&v.value))));
    }
    if let Some(id) = &p.id {
        parts.push(format!("\"Id\":{}", string(&id.value)));
    }
    let statements: Vec<String> = p.statements.iter().map(statement).collect();
    parts.push(format!("\"Statement\":[{}]", statements.join(",")));
    format!("{{{}}}", parts.join(","))
}

/// Everything the AST says, without spans or source text.
pub fn shape(p: &Policy) -> Value {
    let statements: Vec<Value> = p
        .statements
        .iter()
        .map(|st| {
            json!({
                "index": st.index,
                "sid": st.sid.as_ref().map(|s| s.value.clone()),
                "effect": st.effect.value.to_string(),
                "principal": st.principal.as_ref().map(|p| json!({
                    "negated": p.negated,
                    "principal": match &p.principal {
                        Principal::Any => json!("*"),
                        Principal::Map(m) => Value::Array(m.iter().map(|(k, vs)| json!([
                            kind_name(k.value),
                            vs.iter().map(|v| v.value.clone()).collect::<Vec<_>>(),
                        ])).collect()),
                    },
                })),
                "action": {
                    "negated": st.action.negated,
                    "patterns": st.action.patterns.iter().map(|a| a.value.as_str().to_string()).collect::<Vec<_>>(),
                },
                "resource": st.resource.as_ref().map(|r| json!({
                    "negated": r.negated,
                    "patterns": r.patterns.iter().map(|p| p.value.clone()).collect::<Vec<_>>(),
                })),
                "has_condition": st.condition_span.is_some(),
                "conditions": st.conditions.iter().map(|c| json!({
                    "operator": c.operator.value.to_string(),
                    "key": c.key.value,
                    "values": c.values.iter().map(|v| json!([v.value.kind(), v.value.text()])).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "version": p.version.as_ref().map(|v| version_name(&v.value)),
        "id": p.id.as_ref().map(|i| i.value.clone()),
        "statements": statements,
    })
}
