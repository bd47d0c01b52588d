//! The answers' hand-written JSON (`Answer::to_json`, what the WebAssembly module returns) is byte for byte what
//! `serde_json::to_string` writes of their `Serialize` impls (what the CLI writes), on every answer the corpus
//! gives: lint of every policy, compile, decide and explain of every case, presign and reach of every network.

use crate::cases::json_files;
use iamgate::api::{self, Answer, ApiError};
use serde::Serialize;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

/// Counts what it compared, by the answer's `result`.
#[derive(Default)]
struct Seen {
    success: usize,
    failure: usize,
    bytes: usize,
}

impl Seen {
    fn check<T: Serialize + api::WriteJson>(&mut self, a: &Answer<T>, what: &str) {
        let by_hand = a.to_json();
        assert_eq!(by_hand, serde_json::to_string(a).unwrap(), "{what}");
        if a.is_success() {
            self.success += 1;
        } else {
            self.failure += 1;
        }
        self.bytes += by_hand.len();
    }
}

#[test]
fn wasm5_answers_written_by_hand_equal_serde_json_on_the_corpus() {
    let mut seen = Seen::default();
    // Lint: every policy file, every case's policies (kinds as given), and broken texts.
    for p in json_files(&corpus().join("policies")) {
        let text = std::fs::read_to_string(&p).unwrap();
        for kind in [
            "identity", "scp", "resource", "endpoint", "boundary", "nonsense",
        ] {
            let a = api::lint(&json!({"policy": text, "kind": kind}).to_string());
            seen.check(&a, &format!("lint {} as {kind}", p.display()));
        }
    }
    for broken in [
        "{",
        "{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"allow\"}]}",
        "{\"Version\": \"2008-10-17\",\n \"Statement\": [{\"Sid\": \"a\", \"Effect\": \"Allow\", \"Action\": \"s3:*\",\
         \"Resource\": \"*\"}, {\"Sid\": \"a\", \"Effect\": \"Deny\", \"Action\": \"s3:*\", \"Resource\": \"*\",\
         \"Condition\": {\"StringEquals\": {\"aws:username\": \"${aws:username\"}}}]}",
        "[1, 2",
        "{\"Statement\": \"x\u{2014}\"}",
    ] {
        seen.check(&api::lint(&json!({"policy": broken}).to_string()), broken);
    }
    seen.check(&api::lint("not json"), "lint of no JSON");
    // Compile, decide and explain every case.
    for p in json_files(&corpus().join("cases")) {
        let text = std::fs::read_to_string(&p).unwrap();
        let what = p.display().to_string();
        seen.check(&api::compile_json(&text), &what);
        let Ok(set) = api::compile(&text) else {
            continue;
        };
        let case: Value = serde_json::from_str(&text).unwrap();
        let request = case["request"].to_string();
        seen.check(&set.decide(&request), &what);
        seen.check(&set.explain(&request), &what);
    }
    // Presign and reach of every network, under two policies.
    let feeds: serde_json::Map<String, Value> =
        ["zscaler-cenr-sample.json", "aws-ip-ranges-sample.json"]
            .iter()
            .map(|f| {
                let text =
                    std::fs::read_to_string(corpus().join("networks/feeds").join(f)).unwrap();
                (format!("feeds/{f}"), Value::String(text))
            })
            .collect();
    for policy in [
        "studio-via-endpoints.json",
        "notipaddress-lockout.json",
        "sourceip-zscaler-half.json",
    ] {
        let policy = std::fs::read_to_string(corpus().join("policies").join(policy)).unwrap();
        let set = api::compile(&json!({"identity_policies": [policy]}).to_string()).unwrap();
        for p in json_files(&corpus().join("networks")) {
            let Ok(text) = std::fs::read_to_string(&p) else {
                continue;
            };
            let what = p.display().to_string();
            let input = json!({"network": text, "feeds": feeds}).to_string();
            seen.check(&set.presign(&input), &what);
            seen.check(&set.reach(&input), &what);
        }
        seen.check(&set.presign("{}"), "presign without a network");
        seen.check(&set.reach("{\"request\": 1}"), "reach of a bad request");
    }
    // Every character serde_json escapes, and some it does not.
    let odd = "q\"b\\s/\u{0}\u{1}\u{8}\u{9}\u{a}\u{b}\u{c}\u{d}\u{1f} \u{7f}é\u{2028}😀";
    let a: Answer<()> = Answer::Failure {
        errors: vec![ApiError::new(odd), ApiError::new("")],
    };
    seen.check(&a, "escapes");
    seen.check(&Answer::Success(()), "unit");
    assert!(
        seen.success > 1_000 && seen.failure > 30,
        "{} / {}",
        seen.success,
        seen.failure
    );
    assert!(seen.bytes > 500_000, "{}", seen.bytes);
}
