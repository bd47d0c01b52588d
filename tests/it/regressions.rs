//! Fuzz regressions: every minimized input under `fuzz/regressions/<target>/` replayed through the very check of
//! the fuzz target that found it (the checks, the reference evaluator and the canonical printer are the fuzz
//! crate's own files, included here with `#[path]`).
//!
//! Each regression is one named test with a paragraph on the root cause. Inputs of the byte-level targets are
//! the raw bytes; inputs of the structured targets (`decide_differential`, `reach_agrees_with_decide`) are the
//! rendered case line the target printed, so they read as ordinary cases. `every_file_has_a_test` keeps the
//! folder and this list in step.

#[path = "../../fuzz/src/canonical.rs"]
mod canonical;
#[path = "../../fuzz/src/checks.rs"]
mod checks;
#[path = "../../fuzz/src/reference.rs"]
mod reference;

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions")
}

fn read(target: &str, name: &str) -> Vec<u8> {
    let path = root().join(target).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Replay one regression file through the check of `target`.
fn replay(target: &str, name: &str) {
    let data = read(target, name);
    let text = || String::from_utf8(data.clone()).expect("structured regressions are UTF-8");
    match target {
        "parse_no_panic" => checks::parse_no_panic(&data),
        "parse_agrees_with_serde" => {
            if let Ok(t) = std::str::from_utf8(&data) {
                checks::parse_agrees_with_serde(t);
            }
        }
        "policy_roundtrip" => {
            if let Ok(t) = std::str::from_utf8(&data) {
                checks::policy_roundtrip(t);
            }
        }
        "batch_json" => checks::batch_json(&data),
        "decide_differential" => {
            for line in text().lines().filter(|l| !l.trim().is_empty()) {
                checks::decide_differential(line);
            }
        }
        "reach_agrees_with_decide" => checks::reach_agrees_with_decide_json(&text()),
        "network_no_panic" => checks::network_no_panic(&data),
        other => panic!("unknown fuzz target `{other}`"),
    }
}

/// One test per regression: `name: target / file`, with the root cause as the doc comment. A regression whose
/// bug is not fixed yet carries `#[ignore = "bug: ..."]` and is listed in `IGNORED`.
macro_rules! regressions {
    ($($(#[$meta:meta])* $name:ident: $target:literal / $file:literal;)*) => {
        const LISTED: &[(&str, &str)] = &[$(($target, $file)),*];
        $(
            $(#[$meta])*
            #[test]
            fn $name() {
                replay($target, $file);
            }
        )*
    };
}

regressions! {
    /// Found by reading `analyse::reach` while writing the check (fixed in f1fa611). `reach` enumerated the endpoint and VPC ids that
    /// policies name (`key_values` -> `PolicySet::literals_of`) and picks the witness for "any other value"
    /// (`other_witness` -> `PolicySet::names_value`) from the policy *set* only, never from the endpoint policies
    /// passed in `ReachQuery::{api_endpoint, studio_endpoint}`. A VPC (or endpoint) id named only in an endpoint
    /// policy therefore fell into the `*other*` class, whose decision was computed with a witness that the endpoint
    /// policy does not name: here `vpc-0shared00000000001` through the API endpoint is allowed, but reach reported
    /// every VPC (`vpc: *`) as denied by the endpoint gate, and no class held the allowed origin. The fix collects
    /// literals and tests witnesses over the set's policies and the query's endpoint policies.
    reach_misses_vpc_named_only_in_endpoint_policy: "reach_agrees_with_decide" / "vpc-named-only-in-endpoint-policy.json";
    /// Found by `decide_differential` when it first checked `decide_ref` (a bug in the check, not in src). The
    /// check borrowed the case's request by turning each value into its text; the case gives `aws:CurrentTime` as
    /// the JSON number `0.0`, a valid date (epoch seconds), but its text `"0.0"` is not a date, so `decide_ref`
    /// refused what `decide` accepted. A borrowed request is text by contract: the check now compares `decide_ref`
    /// with `decide` on `RequestRef::to_request` (the same text, owned), and with `decide` on the case itself only
    /// when every value is already text.
    decide_ref_number_date_given_as_text: "decide_differential" / "number-date-as-text.json";
}

/// Every `(target, file)` under `fuzz/regressions/`.
fn regression_files() -> Vec<(String, String)> {
    let Ok(targets) = std::fs::read_dir(root()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for t in targets {
        let t = t.unwrap();
        if !t.file_type().unwrap().is_dir() {
            continue;
        }
        let target = t.file_name().into_string().unwrap();
        for f in std::fs::read_dir(t.path()).unwrap() {
            out.push((
                target.clone(),
                f.unwrap().file_name().into_string().unwrap(),
            ));
        }
    }
    out
}

/// Every file in the folder, listed or not, passes its target's check.
#[test]
fn every_regression_replays() {
    for (target, file) in regression_files() {
        // Known bugs stay listed (and ignored) until fixed; everything else must pass.
        if !IGNORED.contains(&(target.as_str(), file.as_str())) {
            replay(&target, &file);
        }
    }
}

/// Regressions whose bug is not fixed yet: replayed only by their own (ignored) test.
const IGNORED: &[(&str, &str)] = &[];

#[test]
fn every_file_has_a_test() {
    let files = regression_files();
    assert!(!files.is_empty(), "no regression files found");
    for (target, file) in files {
        assert!(
            LISTED.contains(&(target.as_str(), file.as_str())),
            "fuzz/regressions/{target}/{file} has no test in tests/it/regressions.rs"
        );
    }
}

/// The reference evaluator agrees with the compiled evaluator on every case of the bundled corpus (so that the
/// differential target starts from a reference that is right where the corpus is).
#[test]
fn reference_agrees_on_the_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/cases");
    let mut stack = vec![dir];
    let mut n = 0;
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                let text = std::fs::read_to_string(&p).unwrap();
                let v: serde_json::Value = serde_json::from_str(&text).unwrap();
                checks::decide_differential(&v.to_string());
                checks::policy_roundtrip(&text);
                n += 1;
            }
        }
    }
    assert!(n > 100, "only {n} corpus cases");
}

/// Every expected-decision case of corpus/cases through the `decide_differential` check: the reference evaluator
/// (written from docs/SEMANTICS.md, reading only the AST) agrees with `decide`, `decide_with_reasons` and `explain`
/// on every rule the corpus names (among them the rules of docs/SEMANTICS.md §1.6, §3.3 and §4.1 that the reference
/// learned with the cases), and with the case's own expectation.
#[test]
fn reference_decides_every_corpus_case() {
    use iamgate::Limits;
    use iamgate::api::case::Case;
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/cases"),
        &mut files,
    );
    assert!(files.len() > 400, "corpus/cases is read");
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let line: serde_json::Value = serde_json::from_str(&text).unwrap();
        let line = line.to_string();
        checks::decide_differential(&line);
        let case = Case::parse(&line, &Limits::default()).unwrap();
        let levels = line_scp_levels(&line);
        let (want, _) = reference::decide(&case.set, &case.request, levels);
        let expect = case.expect.as_ref().map(|e| e.decision);
        assert_eq!(Some(want), expect, "{}", f.display());
    }
}

fn line_scp_levels(line: &str) -> usize {
    serde_json::from_str::<serde_json::Value>(line)
        .ok()
        .and_then(|v| v.get("scps").and_then(|s| s.as_array().map(Vec::len)))
        .unwrap_or(0)
}
