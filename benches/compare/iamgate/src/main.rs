//! Decide every case of a JSONL file with iamgate, in process, and time it.
//! Usage: iamgate-compare cases.jsonl decisions.jsonl > timing.json
//!
//! Three figures: `ns_per_decision` sweeps `PolicySet::decide` over all the parsed and compiled cases in turn (each
//! case's policies are cold in cache by the time it comes round again), the median of many rounds;
//! `ns_per_decision_hot` decides each case 64 times in a row (what a proxy sees: one policy set, many requests);
//! `ns_per_case_end_to_end` times the case text in, decision out (`Case::parse`, which parses and compiles the
//! policies, then `decide`; no lint, like iam-rs's figure); `ns_per_case_record` the case text in, the record
//! `iamgate batch` writes out (`Case::parse`, then `Case::decide`: the reasons and lint's warnings, not the JSON).

use iamgate::Limits;
use iamgate::api::case::Case;
use std::hint::black_box;
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(input), Some(output)) = (args.get(1), args.get(2)) else {
        return Err("usage: iamgate-compare cases.jsonl decisions.jsonl".into());
    };
    let text = std::fs::read_to_string(input)?;
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let limits = Limits::default();
    let parsed: Vec<(Option<String>, Result<Case, String>)> = lines
        .iter()
        .map(|l| match Case::parse(l, &limits) {
            Ok(c) => (c.id.clone(), Ok(c)),
            Err((id, e)) => (id, Err(e.to_string())),
        })
        .collect();
    let cases: Vec<&Case> = parsed.iter().filter_map(|(_, c)| c.as_ref().ok()).collect();

    let mut out = String::new();
    for (id, c) in &parsed {
        let decision = match c {
            Ok(c) => c.set.decide(&c.request).to_string(),
            Err(e) => format!("Error: {e}"),
        };
        out.push_str(&serde_json::json!({"id": id, "decision": decision}).to_string());
        out.push('\n');
    }
    std::fs::write(output, out)?;
    if std::env::var_os("COMPARE_NO_TIMING").is_some() {
        return Ok(());
    }

    // Decide only: rounds over all cases until 2 s have passed (at least 20 rounds); the median round.
    let decide = median_round(20, cases.len(), || {
        for c in &cases {
            black_box(c.set.decide(black_box(&c.request)));
        }
    });

    // Hot: each case decided 64 times in a row (its policies and request in cache), the mean over the cases of
    // the time per decision; the median of 3 passes.
    let mut passes = Vec::new();
    for _ in 0..3 {
        let mut total = 0.0;
        for c in &cases {
            let t = Instant::now();
            for _ in 0..64 {
                black_box(c.set.decide(black_box(&c.request)));
            }
            total += t.elapsed().as_nanos() as f64 / 64.0;
        }
        passes.push(total / cases.len().max(1) as f64);
    }
    let hot = median(&mut passes);

    // End to end: case text in, decision out.
    let end_to_end = median_round(5, lines.len(), || {
        for l in &lines {
            if let Ok(c) = Case::parse(black_box(l), &limits) {
                black_box(c.set.decide(&c.request));
            }
        }
    });

    // The record with lint's warnings, as `iamgate batch` makes it (in process, one thread, no JSON out).
    let record = median_round(5, lines.len(), || {
        for l in &lines {
            if let Ok(c) = Case::parse(black_box(l), &limits) {
                black_box(c.decide(false));
            }
        }
    });
    println!(
        "{}",
        serde_json::json!({"tool": "iamgate", "cases": lines.len(), "ns_per_decision": decide, "ns_per_decision_hot": hot,
            "ns_per_case_end_to_end": end_to_end, "ns_per_case_record": record})
    );
    Ok(())
}

/// Runs `round` (which does `per_round` things) until 2 s have passed and at least `min` times; the median time
/// of one thing, in nanoseconds.
fn median_round(min: usize, per_round: usize, mut round: impl FnMut()) -> f64 {
    let mut rounds = Vec::new();
    let started = Instant::now();
    while rounds.len() < min || started.elapsed() < Duration::from_secs(2) {
        let t = Instant::now();
        round();
        rounds.push(t.elapsed().as_nanos() as f64 / per_round.max(1) as f64);
    }
    median(&mut rounds)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}
