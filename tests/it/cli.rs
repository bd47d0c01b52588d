//! The command line, run as a user runs it.

use std::io::Write;
use std::process::{Command, Stdio};

/// Runs the built `iamgate` with `args`, `stdin` written to it: exit code, stdout, stderr.
pub(crate) fn iamgate(args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_iamgate"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const ALLOW: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;

#[test]
fn batch_keeps_order_and_reports_each_bad_line() {
    let good = format!(
        r#"{{"id":"a","identity_policies":[{ALLOW}],"request":{{"action":"s3:GetObject","resource":"arn:aws:s3:::b/k"}}}}"#
    );
    let bad_policy = r#"{"id":"b","identity_policies":[{"Statement":[{"Effect":"Allw","Action":"s3:*","Resource":"*"}]}],"request":{"action":"s3:GetObject","resource":"*"}}"#;
    let input = format!("{good}\nnot json\n{bad_policy}\n\n{good}\n");
    let (code, out, _) = iamgate(&["batch"], &input);
    assert_eq!(code, 1);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[0]["decision"], "Allow");
    assert_eq!(lines[1]["error"]["line"], 1);
    assert_eq!(lines[2]["id"], "b");
    assert_eq!(lines[2]["error"]["path"], "$.identity_policies[0]");
    assert_eq!(
        lines[2]["error"]["message"],
        "`Effect` must be `Allow` or `Deny`, found `Allw`"
    );
    assert_eq!(lines[2]["error"]["column"], 56);
    assert!(
        lines[3]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("empty line")
    );
    assert_eq!(lines[4]["decision"], "Allow");
}

#[test]
fn batch_of_good_cases_exits_zero() {
    let good = format!(
        r#"{{"id":"a","identity_policies":["{}"],"request":{{"action":"s3:PutObject","resource":"arn:aws:s3:::b/k"}}}}"#,
        ALLOW.replace('"', "\\\"")
    );
    let (code, out, _) = iamgate(&["batch"], &good);
    assert_eq!(code, 0);
    assert_eq!(
        out.trim(),
        r#"{"id":"a","decision":"ImplicitDeny","reasons":[{"policy":"identity","effect":"NoAllow"}],"warnings":[]}"#
    );
}

#[test]
fn decide_explains() {
    let dir = std::env::temp_dir().join(format!("iamgate-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("p.json");
    std::fs::write(
        &p,
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"OnlyCorp","Effect":"Deny","Action":"*","Resource":"*",
        "Condition":{"NotIpAddress":{"aws:SourceIp":"198.51.100.0/24"}}},{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    )
    .unwrap();
    let p = p.to_str().unwrap();
    let (code, out, _) = iamgate(
        &[
            "decide",
            "--policy",
            p,
            "--action",
            "sagemaker:CreatePresignedDomainUrl",
            "--resource",
            "*",
            "--context",
            "aws:SourceVpce=vpce-1",
            "--explain",
        ],
        "",
    );
    assert_eq!(code, 0);
    assert!(
        out.starts_with("ExplicitDeny\n  Deny by identity[0] statement 0 (OnlyCorp)"),
        "{out}"
    );
    assert!(
        out.contains("key absent: a negated operator is true"),
        "{out}"
    );
    let (code, _, err) = iamgate(
        &[
            "decide",
            "--policy",
            p,
            "--action",
            "s3:x",
            "--resource",
            "*",
            "--context",
            "nokey",
        ],
        "",
    );
    assert_eq!(code, 2);
    assert!(err.contains("must be KEY=VALUE"), "{err}");
}

#[test]
fn usage_errors_exit_2() {
    let (code, _, _) = iamgate(&["frobnicate"], "");
    assert_eq!(code, 2);
}

#[test]
fn lint_kind_names_are_policy_kinds_own() {
    // `lint --kind` reads the names `PolicyKind` parses, and says the same as the JSON boundary's `"kind"`.
    let (code, _, err) = iamgate(&["lint", "--kind", "role", "-"], "");
    assert_eq!(code, 2);
    assert!(
        err.contains(
            "unknown policy kind `role`; valid kinds are identity, resource, boundary, session, scp, rcp, endpoint, trust, key"
        ),
        "{err}"
    );
}

/// `lint` renders the first 1,000 diagnostics of a file with their snippets and lists the others with their
/// place only, saying so once (each snippet costs about 20 µs: 70,000 of them, a 1 MiB file, took over a
/// second); `--json` gives every one in full, and the counts cover all of them.
#[test]
fn lint_lists_diagnostics_past_a_thousand_without_snippets() {
    let keys: Vec<String> = (0..1200)
        .map(|i| format!(r#""aws:unknown{i:04}":"v""#))
        .collect();
    let text = format!(
        "{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\",\n\"Condition\":{{\"StringEquals\":{{\n{}\n}}}}}}]}}",
        keys.join(",\n")
    );
    let dir = std::env::temp_dir().join(format!("iamgate-lint-cap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("p.json");
    std::fs::write(&file, &text).unwrap();
    let path = file.to_str().unwrap();
    let (code, out, err) = iamgate(&["lint", path], "");
    let (_, json, _) = iamgate(&["lint", "--json", path], "");
    std::fs::remove_dir_all(&dir).unwrap();
    let n = json.lines().count();
    assert!(n >= 1200, "{n}");
    assert!(err.contains(&format!("{n} ")), "{err}");
    assert_eq!(code, 0, "warnings only: {err}");
    let headers = out
        .lines()
        .filter(|l| l.starts_with("error[") || l.starts_with("warning["))
        .count();
    assert_eq!(headers, n);
    // The underline of each snippet: `  |   ^^^^`.
    let snippets = out
        .lines()
        .filter(|l| l.trim_start().starts_with('|') && l.contains('^'))
        .count();
    let notes = out
        .matches("has more than 1000 diagnostics: the others are listed without their snippets")
        .count();
    assert_eq!(notes, 1);
    // The 1,001st diagnostic and after: a header and its place, no snippet.
    let last = keys.last().unwrap().split('"').nth(1).unwrap();
    let tail = &out[out.rfind(last).unwrap()..];
    assert!(tail.contains(&format!("--> {path}:1202:")), "{tail}");
    assert_eq!(snippets, 1000, "of {n}");
}

/// `iamgate` alone runs what-if on the bundled organisation: from a checkout its findings name corpus/'s files (which
/// a user can open), elsewhere the temporary copies it made; the table is the same either way.
#[test]
fn no_command_reads_the_checkout_s_corpus_when_it_is_there() {
    let (code, here, err) = iamgate(&[], "");
    assert_eq!(code, 0, "{err}");
    assert!(
        here.contains("--> corpus/whatif/example-org.json#$.Policies["),
        "{here}"
    );
    assert!(!here.contains("iamgate-whatif-"), "{here}");
    let elsewhere = std::env::temp_dir().join(format!("iamgate-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&elsewhere).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_iamgate"))
        .current_dir(&elsewhere)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&elsewhere);
    assert_eq!(out.status.code(), Some(0));
    let there = String::from_utf8_lossy(&out.stdout);
    assert!(there.contains("/example-org.json#$.Policies["), "{there}");
    assert!(there.contains("iamgate-whatif-"), "{there}");
    let strip = |t: &str| -> String {
        t.lines()
            .filter(|l| !l.contains("example-org.json#"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&here), strip(&there));
}
