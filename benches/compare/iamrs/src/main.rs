//! Decide every case of a JSONL file with iam-rs, in process, and time it.
//! Usage: iamrs-compare cases.jsonl decisions.jsonl > timing.json
//!
//! iam-rs evaluates one list of policies (no SCP, boundary or endpoint gates), so only `identity_policies` are
//! read. `ns_per_decision` sweeps `PolicyEvaluator::evaluate` over all the prebuilt evaluators and requests in turn
//! (the median of many rounds); `ns_per_decision_hot` evaluates each case 64 times in a row;
//! `ns_per_case_end_to_end` adds `IAMPolicy::from_json`, building the evaluator and the request.
//! Context values "true"/"false" (and JSON booleans) are given as `ContextValue::Boolean`, lists as
//! `StringList`, everything else as `String`.

use iam_rs::{
    Arn, Context, ContextValue, Decision, IAMPolicy, IAMRequest, PolicyEvaluator, Principal,
    PrincipalId,
};
use serde_json::Value;
use std::hint::black_box;
use std::time::{Duration, Instant};

type Error = Box<dyn std::error::Error>;

fn context_value(v: &Value) -> ContextValue {
    match v {
        Value::Bool(b) => ContextValue::Boolean(*b),
        Value::String(s) if s == "true" => ContextValue::Boolean(true),
        Value::String(s) if s == "false" => ContextValue::Boolean(false),
        Value::String(s) => ContextValue::String(s.clone()),
        Value::Number(n) => ContextValue::Number(n.as_f64().unwrap_or(f64::NAN)),
        Value::Array(a) => ContextValue::StringList(
            a.iter()
                .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                .collect(),
        ),
        other => ContextValue::String(other.to_string()),
    }
}

/// Build the evaluator and the request of one case (the untimed setup of the decide-only figure).
fn build(case: &Value) -> Result<(PolicyEvaluator, IAMRequest), Error> {
    let mut policies = Vec::new();
    for p in case["identity_policies"]
        .as_array()
        .map_or(&[][..], Vec::as_slice)
    {
        let text = match p {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        policies.push(IAMPolicy::from_json(&text)?);
    }
    let r = &case["request"];
    let mut context = Context::new();
    if let Some(m) = r["context"].as_object() {
        for (k, v) in m {
            context.insert(k.clone(), context_value(v));
        }
    }
    let request = IAMRequest::new_with_context(
        Principal::Aws(PrincipalId::String(
            r["principal"].as_str().unwrap_or_default().to_string(),
        )),
        r["action"].as_str().unwrap_or_default(),
        Arn::parse(r["resource"].as_str().unwrap_or_default())?,
        context,
    );
    Ok((PolicyEvaluator::with_policies(policies), request))
}

fn name(d: Result<Decision, String>) -> String {
    match d {
        Ok(Decision::Allow) => "Allow".into(),
        Ok(Decision::Deny) => "ExplicitDeny".into(),
        Ok(Decision::NotApplicable) => "ImplicitDeny".into(),
        Err(e) => format!("Error: {e}"),
    }
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(input), Some(output)) = (args.get(1), args.get(2)) else {
        return Err("usage: iamrs-compare cases.jsonl decisions.jsonl".into());
    };
    let text = std::fs::read_to_string(input)?;
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let cases: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l))
        .collect::<Result<_, _>>()?;
    let built: Vec<Result<(PolicyEvaluator, IAMRequest), String>> = cases
        .iter()
        .map(|c| build(c).map_err(|e| e.to_string()))
        .collect();

    let mut out = String::new();
    for (case, b) in cases.iter().zip(&built) {
        let d = match b {
            Ok((ev, req)) => ev
                .evaluate(req)
                .map(|r| r.decision)
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.clone()),
        };
        out.push_str(&serde_json::json!({"id": case["id"], "decision": name(d)}).to_string());
        out.push('\n');
    }
    std::fs::write(output, out)?;
    if std::env::var_os("COMPARE_NO_TIMING").is_some() {
        return Ok(());
    }

    let ok: Vec<&(PolicyEvaluator, IAMRequest)> =
        built.iter().filter_map(|b| b.as_ref().ok()).collect();
    let mut rounds = Vec::new();
    let started = Instant::now();
    while rounds.len() < 10 || started.elapsed() < Duration::from_secs(2) {
        let t = Instant::now();
        for (ev, req) in &ok {
            let _ = black_box(ev.evaluate(black_box(req)));
        }
        rounds.push(t.elapsed().as_nanos() as f64 / ok.len().max(1) as f64);
    }
    let decide = median(&mut rounds);

    // Hot: each case decided 64 times in a row (its policies and request in cache), the mean over the cases of
    // the time per decision; the median of 3 passes.
    let mut passes = Vec::new();
    for _ in 0..3 {
        let mut total = 0.0;
        for (ev, req) in &ok {
            let t = Instant::now();
            for _ in 0..64 {
                let _ = black_box(ev.evaluate(black_box(req)));
            }
            total += t.elapsed().as_nanos() as f64 / 64.0;
        }
        passes.push(total / ok.len().max(1) as f64);
    }
    let hot = median(&mut passes);

    let mut rounds = Vec::new();
    let started = Instant::now();
    while rounds.len() < 3 || started.elapsed() < Duration::from_secs(2) {
        let t = Instant::now();
        for l in &lines {
            if let Ok(case) = serde_json::from_str::<Value>(black_box(l)) {
                if let Ok((ev, req)) = build(&case) {
                    let _ = black_box(ev.evaluate(&req));
                }
            }
        }
        rounds.push(t.elapsed().as_nanos() as f64 / lines.len().max(1) as f64);
    }
    let end_to_end = median(&mut rounds);
    println!(
        "{}",
        serde_json::json!({"tool": "iam-rs", "cases": lines.len(), "ns_per_decision": decide, "ns_per_decision_hot": hot,
            "ns_per_case_end_to_end": end_to_end})
    );
    Ok(())
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}
