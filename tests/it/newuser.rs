//! A new user's first hour: SCP levels, warnings in decide and presign, did-you-mean, exit codes, error style.

use std::path::{Path, PathBuf};
use std::process::Command;

fn iamgate(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_iamgate"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A scratch folder for this test, empty.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("iamgate-newuser-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

const PROFILE: &str = "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123/alice";
const PRESIGN: &str = "sagemaker:CreatePresignedDomainUrl";
const FULL: &str = "corpus/policies/scp-full-access.json";
const PERIMETER: &str = "corpus/policies/scp-deny-presign-outside-endpoints.json";
const IDENTITY: &str = "corpus/policies/studio-via-endpoints.json";

fn decide(extra: &[&str]) -> (i32, String, String) {
    let mut args = vec![
        "decide",
        "--policy",
        IDENTITY,
        "--action",
        PRESIGN,
        "--resource",
        PROFILE,
        "--context",
        "aws:SourceVpce=vpce-0api0000000000001",
        "--context",
        "aws:SourceVpc=vpc-0shared00000000001",
    ];
    args.extend_from_slice(extra);
    iamgate(&args)
}

#[test]
fn newuser_scp_level_holds_several_policies() {
    // FullAWSAccess plus a deny-only SCP, both at the root: one level of two policies allows.
    let level = format!("root:{FULL},{PERIMETER}");
    let (code, out, err) = decide(&["--scp", &level, "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["decision"], "Allow", "{out}");
    assert_eq!(v["reasons"][0]["policy"], "scps[root][0]", "{out}");
    // The same two files as two levels: the deny-only level has no Allow.
    let (_, out, _) = decide(&["--scp", FULL, "--scp", PERIMETER]);
    assert!(out.starts_with("ImplicitDeny"), "{out}");
    assert!(
        out.contains("no statement in scps[1] allows the request"),
        "{out}"
    );
}

#[test]
fn newuser_scp_level_from_a_folder_and_named_in_text() {
    let dir = scratch("folder");
    std::fs::copy(FULL_PATH(), dir.join("a-full.json")).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(PERIMETER),
        dir.join("b-perimeter.json"),
    )
    .unwrap();
    let level = format!("ou:{}", dir.display());
    let (code, out, err) = decide(&["--scp", &level]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("Allow"), "{out}");
    assert!(
        out.contains("Allow by scps[ou][0] statement 0 (FullAWSAccess) in"),
        "{out}"
    );
    assert!(out.contains("a-full.json"), "{out}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[allow(non_snake_case)]
fn FULL_PATH() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(FULL)
}

#[test]
fn newuser_help_says_what_a_level_is() {
    let (code, out, _) = iamgate(&["decide", "--help"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("A level is the set of policies attached at one node of the organization"),
        "{out}"
    );
    assert!(out.contains("[NAME:]FILE[,FILE...]"), "{out}");
}

#[test]
fn newuser_decide_exit_code_on_deny() {
    let (code, out, _) = decide(&["--exit-code", "--scp", PERIMETER]);
    assert_eq!(code, 3, "{out}");
    let (code, _, _) = decide(&["--exit-code"]);
    assert_eq!(code, 0);
    // Without the flag, a deny is still a successful run.
    let (code, _, _) = decide(&["--scp", PERIMETER]);
    assert_eq!(code, 0);
}

#[test]
fn newuser_decide_shows_lint_warnings_text_and_json() {
    let dir = scratch("warnings");
    // No Version: `${aws:username}` stays literal text; a malformed CIDR never matches.
    let p = write(
        &dir,
        "p.json",
        r#"{"Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
  "Resource": "arn:aws:s3:::b/${aws:username}/*",
  "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/33"}}}]}"#,
    );
    let rcp = write(
        &dir,
        "rcp.json",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}]}"#,
    );
    let args = [
        "decide",
        "--policy",
        &p,
        "--rcp",
        &rcp,
        "--action",
        "sagemaker:ListDomains",
        "--resource",
        "*",
    ];
    let (code, out, err) = iamgate(&args);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("ImplicitDeny"), "{out}");
    // Text: lint's warnings in the one error style, with the policy's place in the request.
    assert!(out.contains("warning[missing-version]"), "{out}");
    assert!(out.contains("p.json:1:1"), "{out}");
    assert!(
        out.contains("= note: the policy is used as identity[0]"),
        "{out}"
    );
    assert!(out.contains("10.0.0.0/33"), "{out}");
    assert!(
        out.contains("resource control policies were not applied"),
        "{out}"
    );
    let mut json_args = args.to_vec();
    json_args.push("--json");
    let (_, out, _) = iamgate(&json_args);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["decision", "id", "reasons", "warnings"]);
    let w = v["warnings"].as_array().unwrap();
    assert!(
        w.iter().any(|w| w
            .as_str()
            .unwrap()
            .contains("p.json:1:1): warning[missing-version]")),
        "{out}"
    );
    assert!(
        w.iter()
            .any(|w| w.as_str().unwrap().contains("not applied")),
        "{out}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A network file for an IAM user who opens their own user profile from the public internet.
fn user_network(dir: &Path, principal: &str) -> String {
    write(
        dir,
        "net.json",
        &format!(
            r#"{{"name": "home", "region": "eu-west-1", "account": "111122223333",
  "principal": "{principal}", "domain_id": "d-abc123", "user_profile": "alice",
  "client": {{"ip": "203.0.113.7", "egress": {{"kind": "direct"}}}}}}"#
        ),
    )
}

const OWN_PROFILE: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
  "Action": "sagemaker:CreatePresignedDomainUrl",
  "Resource": "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123/${aws:username}"}]}"#;

#[test]
fn newuser_presign_derives_aws_username_for_an_iam_user() {
    let dir = scratch("username");
    let p = write(&dir, "own.json", OWN_PROFILE);
    let net = user_network(&dir, "arn:aws:iam::111122223333:user/team/alice");
    let (code, out, err) = iamgate(&["presign", "--policy", &p, "--network", &net, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
    assert_eq!(v["verdict"], "works", "{out}{err}");
    assert_eq!(v["steps"][0]["context"]["aws:username"], "alice", "{out}");
    assert_eq!(code, 0, "{out}{err}");
    // Another user's profile: the derived name does not match.
    let net = user_network(&dir, "arn:aws:iam::111122223333:user/bob");
    let (_, out, _) = iamgate(&["presign", "--policy", &p, "--network", &net, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["verdict"], "create-denied", "{out}");
    // A role session has no aws:username; --context gives one.
    let net = user_network(&dir, "arn:aws:sts::111122223333:assumed-role/DataSci/alice");
    let (_, out, _) = iamgate(&["presign", "--policy", &p, "--network", &net, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["verdict"], "create-denied", "{out}");
    let (_, out, _) = iamgate(&[
        "presign",
        "--policy",
        &p,
        "--network",
        &net,
        "--json",
        "--context",
        "aws:username=alice",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["verdict"], "works", "{out}");
    assert!(v["warnings"].is_array(), "{out}");
    // The path's keys cannot be set by hand.
    let (code, _, err) = iamgate(&[
        "presign",
        "--policy",
        &p,
        "--network",
        &net,
        "--context",
        "aws:SourceIp=10.0.0.1",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("the network path sets it"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn newuser_did_you_mean_for_elements_operators_and_keys() {
    let dir = scratch("typos");
    let p = write(
        &dir,
        "typo.json",
        r#"{"Version": "2012-10-17", "Statement": [{"Efect": "Allow", "Action": "s3:GetObject", "Resource": "*",
  "Condition": {"NotIpAdress": {"aws:SourceIp": "10.0.0.0/8"}}}]}"#,
    );
    let (code, out, err) = iamgate(&["lint", &p]);
    assert_eq!(code, 1);
    assert!(out.contains("did you mean `Effect`?"), "{out}");
    assert!(out.contains("did you mean `NotIpAddress`?"), "{out}");
    // Both errors in one pass.
    assert!(err.contains("3 errors"), "{err}");
    let k = write(
        &dir,
        "key.json",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
  "Condition": {"StringEquals": {"aws:SourceVcpe": "vpce-1"}}}]}"#,
    );
    let (_, out, err) = iamgate(&["lint", &k]);
    assert!(out.contains("did you mean `aws:SourceVpce`?"), "{out}");
    assert!(err.contains("0 errors, 1 warning\n"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn newuser_reach_asks_for_principal_and_resource() {
    let (code, out, err) = iamgate(&["reach", "--policy", IDENTITY]);
    assert_eq!(code, 2, "{out}");
    assert!(
        err.contains("reach needs --principal and --resource"),
        "{err}"
    );
    let (code, _, err) = iamgate(&[
        "reach",
        "--policy",
        IDENTITY,
        "--principal",
        "arn:aws:iam::111122223333:role/DataSci",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("reach needs --resource"), "{err}");
}

#[test]
fn newuser_unreadable_policy_exits_2_with_error() {
    for cmd in [
        vec![
            "decide",
            "--policy",
            "nope.json",
            "--action",
            "s3:GetObject",
            "--resource",
            "*",
        ],
        vec![
            "presign",
            "--policy",
            "nope.json",
            "--network",
            "corpus/networks/zscaler-only.json",
        ],
        vec![
            "reach",
            "--policy",
            "nope.json",
            "--principal",
            "arn:aws:iam::1:role/R",
            "--resource",
            PROFILE,
        ],
        vec!["lint", "nope.json"],
    ] {
        let (code, out, err) = iamgate(&cmd);
        assert_eq!(code, 2, "{cmd:?}: {err}");
        // `lint` may report an unreadable file among the others' diagnostics; the rest say it on stderr.
        let said = if cmd[0] == "lint" {
            format!("{out}{err}")
        } else {
            err.clone()
        };
        assert!(said.contains("cannot read `nope.json`"), "{cmd:?}: {said}");
        assert!(said.contains("error"), "{cmd:?}: {said}");
    }
}

#[test]
fn newuser_outputs_are_ignored_by_git() {
    let gi =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(".gitignore")).unwrap();
    assert!(gi.lines().any(|l| l.trim() == "decisions.jsonl"), "{gi}");
}

#[test]
fn newuser_help_texts_are_sentences() {
    // Every option's help starts with a capital letter and says something (clap drops the final period); the
    // help sits after the option, or on the next line when the options are long.
    for cmd in ["batch", "decide", "lint", "presign", "reach"] {
        let (_, out, _) = iamgate(&[cmd, "-h"]);
        let lines: Vec<&str> = out.lines().collect();
        let mut checked = 0;
        for (i, line) in lines.iter().enumerate() {
            let t = line.trim_start();
            if !t.starts_with('-') || t.contains("--help") {
                continue;
            }
            let help = match t.split_once("  ").map(|x| x.1.trim()) {
                Some(h) if !h.is_empty() => h,
                _ => lines.get(i + 1).map_or("", |l| l.trim()),
            };
            let first = help.chars().next().unwrap_or(' ');
            assert!(
                first.is_uppercase() && help.split_whitespace().count() >= 3,
                "{cmd}: `{line}` / `{help}`"
            );
            checked += 1;
        }
        assert!(checked >= 2, "{cmd}: {out}");
    }
    // Each command's summary reads as an instruction: a capitalised verb, not "The ..." or "A ...".
    let (_, out, _) = iamgate(&["--help"]);
    let commands = out
        .split("Commands:")
        .nth(1)
        .unwrap()
        .split("Options:")
        .next()
        .unwrap();
    for line in commands.lines().filter(|l| !l.trim().is_empty()) {
        let summary = line.trim().split_once(' ').unwrap().1.trim();
        let first = summary.split(' ').next().unwrap();
        assert!(
            first.starts_with(char::is_uppercase) && !["The", "A", "An"].contains(&first),
            "`{line}`"
        );
    }
}

#[test]
fn newuser_one_error_style_for_policies_compile_errors_and_networks() {
    let dir = scratch("style");
    // A parse error: file:line:column, the snippet, the JSON path, help; exit 1; no colour when piped.
    let p = write(
        &dir,
        "bad.json",
        "{\"Version\": \"2012-10-17\",\n \"Statement\": [{\"Effect\": \"Alow\", \"Action\": \"s3:*\", \"Resource\": \"*\"}]}",
    );
    let (code, _, err) = iamgate(&[
        "decide",
        "--policy",
        &p,
        "--action",
        "s3:GetObject",
        "--resource",
        "*",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.starts_with("error[invalid-effect]:"), "{err}");
    assert!(err.contains("bad.json:2:27"), "{err}");
    assert!(err.contains("at `$.Statement[0].Effect`"), "{err}");
    assert!(err.contains("= help:"), "{err}");
    assert!(!err.contains('\u{1b}'), "no colour in a pipe: {err}");
    // A policy used where it cannot be (a resource policy without Principal): the same style, and where it was used.
    let r = write(
        &dir,
        "resource.json",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}"#,
    );
    let (code, _, err) = iamgate(&[
        "decide",
        "--resource-policy",
        &r,
        "--action",
        "s3:GetObject",
        "--resource",
        "arn:aws:s3:::b/k",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.starts_with("error["), "{err}");
    assert!(err.contains("resource.json:1:"), "{err}");
    assert!(err.contains("at `$"), "{err}");
    assert!(err.contains("the policy is used as resource"), "{err}");
    // A network file that is not valid: the same style.
    let net = write(&dir, "net.json", "{\"name\": \"n\",\n \"region\": 7}");
    let (code, _, err) = iamgate(&["presign", "--policy", IDENTITY, "--network", &net]);
    assert_eq!(code, 1, "{err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains("net.json:2:"), "{err}");
    assert!(err.contains("at `$."), "{err}");
    // An unreadable network file: exit 2.
    let (code, _, err) = iamgate(&["presign", "--policy", IDENTITY, "--network", "nope.json"]);
    assert_eq!(code, 2);
    assert!(err.starts_with("error: cannot read `nope.json`"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn newuser_lint_json_has_the_json_path() {
    let (code, out, _) = iamgate(&[
        "lint",
        "--json",
        "corpus/policies/notipaddress-lockout.json",
    ]);
    assert!(code == 0 || code == 1);
    for line in out.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(v["path"].as_str().unwrap().starts_with('$'), "{line}");
    }
}

#[test]
fn newuser_counts_are_singular_for_one() {
    let dir = scratch("counts");
    let good = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/sample-cases.jsonl"),
    )
    .unwrap()
    .lines()
    .next()
    .unwrap()
    .to_string();
    let f = write(&dir, "one.jsonl", &format!("{good}\n{{\"id\": \"bad\"}}\n"));
    let (code, _, err) = iamgate(&["batch", &f]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("2 cases: ") && err.contains(", 1 error;"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn newuser_levels_in_presign_and_reach() {
    let level = format!("root:{FULL},{PERIMETER}");
    let (_, out, err) = iamgate(&[
        "presign",
        "--policy",
        IDENTITY,
        "--scp",
        &level,
        "--network",
        "corpus/networks/zscaler-r53-dx.json",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["verdict"], "works", "{out}{err}");
    assert!(out.contains("\"scps[root][0]\""), "{out}");
    let (code, out, err) = iamgate(&[
        "reach",
        "--policy",
        IDENTITY,
        "--scp",
        &level,
        "--principal",
        "arn:aws:iam::111122223333:role/DataSci",
        "--resource",
        PROFILE,
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"scps[root][1]\""), "{out}");
    assert!(!out.contains("\"scps[0]"), "{out}");
}

#[test]
fn newuser_lint_reports_parse_errors_and_checks_in_one_pass() {
    let dir = scratch("onepass");
    let p = write(
        &dir,
        "two.json",
        r#"{"Version": "2012-10-17", "Statement": [
  {"Efect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
  {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
   "Condition": {"StringEquals": {"aws:SourceVcpe": "vpce-1"}}}]}"#,
    );
    let (code, out, err) = iamgate(&["lint", &p]);
    assert_eq!(code, 1);
    // The structural error of statement 0 and the key check of statement 1, without a second run.
    assert!(out.contains("error[unknown-element]"), "{out}");
    assert!(out.contains("warning[unknown-global-key]"), "{out}");
    assert!(out.contains("did you mean `aws:SourceVpce`?"), "{out}");
    assert!(err.contains("2 errors, 1 warning\n"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Run `iamgate ARGS` on a pseudo-terminal (util-linux `script`), with `NO_COLOR` set or not; its output.
fn on_terminal(args: &str, no_color: bool) -> String {
    let mut cmd = Command::new("script");
    cmd.args([
        "-qec",
        &format!("{} {args}", env!("CARGO_BIN_EXE_iamgate")),
        "/dev/null",
    ])
    .current_dir(env!("CARGO_MANIFEST_DIR"))
    .env_remove("NO_COLOR");
    if no_color {
        cmd.env("NO_COLOR", "1");
    }
    let out = cmd
        .output()
        .expect("util-linux `script` (Debian's bsdutils) gives the test a terminal");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn newuser_colour_on_a_terminal_only_without_no_color() {
    let dir = scratch("colour");
    let p = write(
        &dir,
        "p.json",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Alow", "Action": "s3:*", "Resource": "*"}]}"#,
    );
    let args = format!("lint {p}");
    let tty = on_terminal(&args, false);
    assert!(tty.contains("error[invalid-effect]"), "{tty}");
    assert!(tty.contains('\u{1b}'), "a terminal gets colour: {tty}");
    let plain = on_terminal(&args, true);
    assert!(plain.contains("error[invalid-effect]"), "{plain}");
    assert!(!plain.contains('\u{1b}'), "NO_COLOR: {plain}");
    let piped = Command::new(env!("CARGO_BIN_EXE_iamgate"))
        .args(["lint", &p])
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    let piped = String::from_utf8_lossy(&piped.stdout);
    assert!(piped.contains("error[invalid-effect]"), "{piped}");
    assert!(!piped.contains('\u{1b}'), "a pipe, NO_COLOR unset: {piped}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn newuser_reach_derives_aws_username_too() {
    let dir = scratch("reach-username");
    let p = write(&dir, "own.json", OWN_PROFILE);
    let reach = |principal: &str| {
        let (code, out, err) = iamgate(&[
            "reach",
            "--policy",
            &p,
            "--principal",
            principal,
            "--resource",
            PROFILE,
            "--json",
        ]);
        assert_eq!(code, 0, "{err}");
        out
    };
    assert!(reach("arn:aws:iam::111122223333:user/alice").contains("\"Allow\""));
    assert!(!reach("arn:aws:iam::111122223333:user/bob").contains("\"Allow\""));
    std::fs::remove_dir_all(&dir).unwrap();
}
