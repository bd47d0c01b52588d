//! `iamgate whatif`, run as a user runs it: nothing lost, guardrails, shards, formats, SSO domains.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn iamgate(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_iamgate"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn corpus(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(rel)
        .display()
        .to_string()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("iamgate-it-whatif-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn jsonl(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

const PRESIGN_ANYWHERE: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Presign","Effect":"Allow","Action":"sagemaker:CreatePresignedDomainUrl","Resource":"*"}]}"#;

/// Two presets: one public (Zscaler), one through the endpoints (VPN).
fn two_networks() -> [String; 4] {
    [
        "--networks".into(),
        corpus("corpus/networks/zscaler-only.json"),
        "--networks".into(),
        corpus("corpus/networks/vpn.json"),
    ]
}

/// A corpus with a good policy, a malformed file, a policy with a bad effect, a GAAD export with dangling
/// references, a truncated export and Case JSONL with a bad line: every file, policy and principal shows up as
/// rows or as an error record naming the file and place; the summary counts agree; the exit code is 1.
#[test]
fn whatif_corpus_with_malformed_files_loses_nothing() {
    let d = tmp("lossless");
    std::fs::write(d.join("good.json"), PRESIGN_ANYWHERE).unwrap();
    std::fs::write(d.join("malformed.json"), "{\"Statement\": [").unwrap();
    std::fs::write(
        d.join("bad-effect.json"),
        r#"{"Statement":[{"Effect":"Allw","Action":"*","Resource":"*"}]}"#,
    )
    .unwrap();
    let (code, _, _) = iamgate(&[
        "whatif",
        "--generate",
        "100",
        "--seed",
        "3",
        "--dangling",
        "--out",
        d.join("org.json").to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    let org = std::fs::read_to_string(d.join("org.json")).unwrap();
    std::fs::write(d.join("truncated.json"), &org[..org.len() / 2]).unwrap();
    let case = format!(
        r#"{{"id":"c1","identity_policies":[{PRESIGN_ANYWHERE}],"request":{{"principal":"arn:aws:iam::111122223333:role/FromCase","action":"x:y","resource":"*"}}}}"#
    );
    std::fs::write(d.join("cases.jsonl"), format!("{case}\nnot json\n")).unwrap();
    let nets = two_networks();
    let mut args = vec!["whatif", d.to_str().unwrap(), "--format", "jsonl"];
    args.extend(nets.iter().map(String::as_str));
    let (code, out, _) = iamgate(&args);
    assert_eq!(code, 1);
    let recs = jsonl(&out);
    let rows: Vec<&Value> = recs.iter().filter(|r| r.get("verdict").is_some()).collect();
    let errors: Vec<&Value> = recs.iter().filter(|r| r.get("error").is_some()).collect();
    let summary = &recs.last().unwrap()["summary"];
    // Every file appears.
    for f in [
        "good.json",
        "malformed.json",
        "bad-effect.json",
        "org.json",
        "truncated.json",
        "cases.jsonl",
    ] {
        assert!(
            recs.iter()
                .any(|r| r["source"].as_str().is_some_and(|s| s.contains(f))),
            "{f} yields nothing"
        );
    }
    // org.json: 100 principals, two of them (roles 7 and 57) with a dangling reference.
    let org_errors: Vec<&&Value> = errors
        .iter()
        .filter(|e| {
            e["source"]
                .as_str()
                .unwrap()
                .ends_with("org.json#$.RoleDetailList[7]")
                || e["source"]
                    .as_str()
                    .unwrap()
                    .contains("org.json#$.RoleDetailList[57]")
        })
        .collect();
    assert_eq!(org_errors.len(), 2, "{errors:?}");
    assert!(
        org_errors[0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("RetiredPolicy")
    );
    assert!(
        org_errors[0]["error"]["path"]
            .as_str()
            .unwrap()
            .starts_with("$.RoleDetailList[7].AttachedManagedPolicies[")
    );
    let org_rows = rows
        .iter()
        .filter(|r| r["source"].as_str().unwrap().contains("org.json#"))
        .count();
    assert_eq!(org_rows, 98 * 2);
    // The bad effect names its line and column; the bad case line its line.
    let bad = errors
        .iter()
        .find(|e| e["source"].as_str().unwrap().ends_with("bad-effect.json"))
        .unwrap();
    assert_eq!(
        (
            bad["error"]["line"].as_u64(),
            bad["error"]["column"].as_u64()
        ),
        (Some(1), Some(25))
    );
    let case_err = errors
        .iter()
        .find(|e| e["source"].as_str().unwrap().ends_with("cases.jsonl#2"))
        .unwrap();
    assert_eq!(case_err["error"]["line"], 2);
    // The counts add up: principals x networks rows, one error record per failure.
    assert_eq!(summary["rows"].as_u64().unwrap() as usize, rows.len());
    assert_eq!(summary["errors"].as_u64().unwrap() as usize, errors.len());
    assert_eq!(
        summary["principals"].as_u64().unwrap() as usize * 2,
        rows.len()
    );
    assert_eq!(summary["inputs"], 6);
}

/// A candidate SCP that denies presigning outside the VPC endpoints: only the public row changes, from works
/// to create-denied, with the guardrail's statement as the one responsible; the summary counts one row locked
/// out and one still open.
#[test]
fn whatif_guardrail_reports_only_changed_rows() {
    let d = tmp("guardrail");
    std::fs::write(d.join("datasci.json"), PRESIGN_ANYWHERE).unwrap();
    let guard = d.join("guard.json");
    std::fs::write(
        &guard,
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"OnlyViaEndpoints","Effect":"Deny","Action":"sagemaker:CreatePresignedDomainUrl","Resource":"*",
            "Condition":{"Null":{"aws:SourceVpce":"true"}}}]}"#,
    )
    .unwrap();
    let nets = two_networks();
    let datasci = d.join("datasci.json");
    let mut args = vec![
        "whatif",
        datasci.to_str().unwrap(),
        "--guardrail",
        guard.to_str().unwrap(),
        "--format",
        "jsonl",
    ];
    args.extend(nets.iter().map(String::as_str));
    let (code, out, _) = iamgate(&args);
    assert_eq!(code, 0);
    let recs = jsonl(&out);
    let rows: Vec<&Value> = recs.iter().filter(|r| r.get("verdict").is_some()).collect();
    assert_eq!(rows.len(), 1, "{out}");
    assert_eq!(rows[0]["network"], "zscaler-only");
    assert_eq!(rows[0]["before"]["verdict"], "works");
    assert_eq!(rows[0]["verdict"], "create-denied");
    assert_eq!(rows[0]["deciding"]["sid"], "OnlyViaEndpoints");
    assert_eq!(rows[0]["deciding"]["policy"], guard.display().to_string());
    let g = &recs.last().unwrap()["summary"]["guardrail"];
    assert_eq!(g["locked_out"]["count"], 1);
    assert_eq!(g["still_open"]["count"], 1);
    assert_eq!(g["changed"], 1);
    // As a boundary it locks out both networks (the boundary allows nothing).
    let mut args2 = args.clone();
    args2.extend(["--guardrail-kind", "boundary"]);
    let (_, out, _) = iamgate(&args2);
    let recs = jsonl(&out);
    assert_eq!(
        recs.iter().filter(|r| r.get("verdict").is_some()).count(),
        2
    );
    assert_eq!(
        recs.last().unwrap()["summary"]["guardrail"]["locked_out"]["count"],
        2
    );
}

/// The shards of a run are disjoint and together are the whole run.
#[test]
fn whatif_shards_concatenate_to_the_whole() {
    let d = tmp("shards");
    let org = d.join("org.json");
    iamgate(&["whatif", "--generate", "60", "--out", org.to_str().unwrap()]);
    let nets = two_networks();
    let rows_of = |extra: &[&str]| -> Vec<String> {
        let mut args = vec!["whatif", org.to_str().unwrap(), "--format", "jsonl"];
        args.extend(nets.iter().map(String::as_str));
        args.extend(extra);
        let (_, out, _) = iamgate(&args);
        out.lines()
            .filter(|l| l.contains("\"verdict\"") && !l.starts_with("{\"summary\""))
            .map(str::to_string)
            .collect()
    };
    let mut whole = rows_of(&[]);
    let mut parts = Vec::new();
    for k in ["1/3", "2/3", "3/3"] {
        let part = rows_of(&["--shard", k]);
        assert!(!part.is_empty() && part.len() < whole.len());
        parts.extend(part);
    }
    whole.sort();
    parts.sort();
    assert_eq!(whole.len(), 120);
    assert_eq!(parts, whole);
}

/// Table, CSV and Markdown carry the same rows; the counts go to stderr.
#[test]
fn whatif_formats_agree() {
    let d = tmp("formats");
    std::fs::write(d.join("datasci.json"), PRESIGN_ANYWHERE).unwrap();
    let nets = two_networks();
    let run = |format: &str| {
        let mut args = vec!["whatif", d.to_str().unwrap(), "--format", format];
        args.extend(nets.iter().map(String::as_str));
        iamgate(&args)
    };
    let (code, csv, err) = run("csv");
    assert_eq!(code, 0);
    assert!(
        err.contains("1 input, 1 principal, 2 rows, 0 errors"),
        "{err}"
    );
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].starts_with("principal,source,network,"));
    assert!(
        lines[1].contains(",zscaler-only,alice,Allow,Allow,works,create,"),
        "{}",
        lines[1]
    );
    let (_, md, _) = run("markdown");
    assert_eq!(md.lines().filter(|l| l.starts_with("| arn:")).count(), 2);
    let (_, table, err) = run("table");
    // Piped, stderr holds only the last line: no progress output.
    assert_eq!(err, "whatif: 1 input, 1 principal, 2 rows, 0 errors\n");
    assert!(
        table.contains("principals that can create from a shared Zscaler egress: 1"),
        "{table}"
    );
    assert!(table.contains("create: Allow by"), "{table}");
    let (code, _, err) = run("yaml");
    assert_eq!(code, 2);
    assert!(err.contains("unknown format `yaml`"));
}

/// An SSO-mode domain: presign's verdict says CreatePresignedDomainUrl is not the way in, with a finding at
/// `domain.auth_mode`; what-if counts the principals whose policies would let them create there.
#[test]
fn whatif_sso_domain_is_not_the_way_in() {
    let d = tmp("sso");
    let mut net: Value = serde_json::from_str(
        &std::fs::read_to_string(corpus("corpus/networks/zscaler-only.json")).unwrap(),
    )
    .unwrap();
    net["name"] = "sso".into();
    net["domain"] = serde_json::json!({"auth_mode": "sso"});
    let netf = d.join("sso.json");
    std::fs::write(&netf, serde_json::to_string_pretty(&net).unwrap()).unwrap();
    let pol = d.join("p.json");
    std::fs::write(&pol, PRESIGN_ANYWHERE).unwrap();
    let (code, out, _) = iamgate(&[
        "presign",
        "--policy",
        pol.to_str().unwrap(),
        "--network",
        netf.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 1);
    let r: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["verdict"], "sso-domain");
    assert_eq!(r["steps"][0]["decision"], "Allow");
    assert_eq!(r["findings"][0]["code"], "sso-domain");
    assert!(r["findings"][0]["line"].as_u64().unwrap() > 1);
    let (_, out, _) = iamgate(&[
        "whatif",
        pol.to_str().unwrap(),
        "--networks",
        netf.to_str().unwrap(),
        "--format",
        "jsonl",
    ]);
    let recs = jsonl(&out);
    assert_eq!(recs[0]["verdict"], "sso-domain");
    // The deciding statement still says what the policies would decide.
    assert_eq!(recs[0]["deciding"]["sid"], "Presign");
    assert_eq!(
        recs.last().unwrap()["summary"]["sso_domain_affected"]["count"],
        1
    );
    // A bad mode names the place.
    net["domain"] = serde_json::json!({"auth_mode": "saml"});
    std::fs::write(&netf, serde_json::to_string(&net).unwrap()).unwrap();
    let (code, _, err) = iamgate(&[
        "whatif",
        pol.to_str().unwrap(),
        "--networks",
        netf.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("$.domain.auth_mode") && err.contains("`saml`"),
        "{err}"
    );
}

/// Principals whose policies read their tags are decided one by one: the same policy, two tags, two answers;
/// `--profile-tag` maps each to its own profile, and both then work.
#[test]
fn whatif_tag_policies_are_decided_per_principal() {
    let d = tmp("tags");
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Own","Effect":"Allow","Action":"sagemaker:CreatePresignedDomainUrl","Resource":"arn:aws:sagemaker:*:*:user-profile/*/${aws:PrincipalTag/profile}"}]}"#;
    let role = |name: &str, tag: &str| {
        format!(
            r#"{{"RoleName":"{name}","Arn":"arn:aws:iam::111122223333:role/{name}","RolePolicyList":[{{"PolicyName":"own","PolicyDocument":{doc}}}],"Tags":[{{"Key":"profile","Value":"{tag}"}}]}}"#
        )
    };
    let gaad = format!(
        r#"{{"RoleDetailList":[{},{}],"Policies":[]}}"#,
        role("a", "alice"),
        role("b", "bob")
    );
    let f = d.join("gaad.json");
    std::fs::write(&f, gaad).unwrap();
    let net = corpus("corpus/networks/zscaler-only.json");
    let base = [
        "whatif",
        f.to_str().unwrap(),
        "--networks",
        &net,
        "--format",
        "jsonl",
    ];
    let (_, out, _) = iamgate(&base);
    let recs = jsonl(&out);
    assert_eq!(recs[0]["verdict"], "works");
    assert_eq!(recs[1]["verdict"], "create-denied");
    let mut args = base.to_vec();
    args.extend(["--profile-tag", "profile"]);
    let (_, out, _) = iamgate(&args);
    let recs = jsonl(&out);
    assert_eq!(
        (recs[0]["verdict"].as_str(), recs[1]["verdict"].as_str()),
        (Some("works"), Some("works"))
    );
    assert_eq!(recs[1]["user_profile"], "bob");
}

/// With no arguments the binary runs what-if on the bundled example and presets: a real table at once.
#[test]
fn whatif_runs_with_no_arguments() {
    let (code, out, err) = iamgate(&[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("principal "), "{out}");
    assert!(out.contains(" works "), "{out}");
    assert!(err.contains("20 principals, 120 rows, 0 errors"), "{err}");
}

/// SCP levels take `NAME:FILE,FILE` and folders; an SCP level without an Allow denies everything.
#[test]
fn whatif_scp_levels() {
    let d = tmp("levels");
    std::fs::write(d.join("p.json"), PRESIGN_ANYWHERE).unwrap();
    let lvl = d.join("root");
    std::fs::create_dir_all(&lvl).unwrap();
    std::fs::write(
        lvl.join("full.json"),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    )
    .unwrap();
    let deny_only = d.join("deny.json");
    std::fs::write(&deny_only, r#"{"Version":"2012-10-17","Statement":[{"Sid":"D","Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#).unwrap();
    let net = corpus("corpus/networks/zscaler-only.json");
    let run = |levels: &[String]| {
        let mut args = vec![
            "whatif".to_string(),
            d.join("p.json").display().to_string(),
            "--networks".into(),
            net.clone(),
            "--format".into(),
            "jsonl".into(),
        ];
        for l in levels {
            args.push("--scp".into());
            args.push(l.clone());
        }
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let (_, out, _) = iamgate(&a);
        jsonl(&out)[0]["verdict"].as_str().unwrap().to_string()
    };
    assert_eq!(run(&[lvl.display().to_string()]), "works");
    let full = lvl.join("full.json").display().to_string();
    assert_eq!(
        run(&[
            lvl.display().to_string(),
            format!("ou:{full},{}", deny_only.display())
        ]),
        "works"
    );
    assert_eq!(run(&[deny_only.display().to_string()]), "create-denied");
}

/// Domain limits: two IAM-mode domains in one account and region, and more than 1,000 user profiles mapped to
/// one domain, are flagged; 1,000 exactly is not. `--out` writes the rows to a file.
#[test]
fn whatif_domain_limits() {
    let d = tmp("limits");
    let roles = |n: usize| -> String {
        let list: Vec<String> = (0..n)
            .map(|i| {
                format!(
                    r#"{{"Arn":"arn:aws:iam::111122223333:role/r{i}","RolePolicyList":[{{"PolicyName":"p","PolicyDocument":{PRESIGN_ANYWHERE}}}],"Tags":[{{"Key":"profile","Value":"p{i}"}}]}}"#
                )
            })
            .collect();
        format!(r#"{{"RoleDetailList":[{}],"Policies":[]}}"#, list.join(","))
    };
    let net = corpus("corpus/networks/zscaler-only.json");
    let limits = |n: usize, extra: &[&str]| -> Vec<String> {
        let f = d.join(format!("org{n}.json"));
        std::fs::write(&f, roles(n)).unwrap();
        let out = d.join(format!("rows{n}.jsonl"));
        let mut args = vec![
            "whatif",
            f.to_str().unwrap(),
            "--networks",
            &net,
            "--format",
            "jsonl",
            "--profile-tag",
            "profile",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend(extra);
        let (code, stdout, _) = iamgate(&args);
        assert_eq!((code, stdout.as_str()), (0, ""));
        let recs = jsonl(&std::fs::read_to_string(&out).unwrap());
        assert_eq!(
            recs.iter().filter(|r| r.get("verdict").is_some()).count(),
            n * (1 + extra.len() / 2)
        );
        recs.last().unwrap()["summary"]["domain_limits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["code"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(limits(1000, &[]).is_empty());
    assert_eq!(limits(1001, &[]), ["too-many-user-profiles"]);
    let mut other: Value = serde_json::from_str(&std::fs::read_to_string(&net).unwrap()).unwrap();
    other["name"] = "second-domain".into();
    other["domain_id"] = "d-second".into();
    let other_f = d.join("second.json");
    std::fs::write(&other_f, other.to_string()).unwrap();
    assert_eq!(
        limits(2, &["--networks", other_f.to_str().unwrap()]),
        ["several-iam-domains"]
    );
}

/// The other guardrail kinds: an endpoint policy replaces the policy of each endpoint reached (the VPN row, through
/// the endpoints, changes; the Zscaler row, on the public path, does not); an RCP that denies SageMaker changes
/// nothing, because RCPs do not govern SageMaker (docs/SEMANTICS.md §4.1); an RCP with an Allow is refused.
#[test]
fn whatif_guardrail_kinds_endpoint_and_rcp() {
    let d = tmp("guardrail-kinds");
    let datasci = d.join("datasci.json");
    std::fs::write(&datasci, PRESIGN_ANYWHERE).unwrap();
    let guard = d.join("endpoint.json");
    std::fs::write(
        &guard,
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"OnlyS3","Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}"#,
    )
    .unwrap();
    let nets = two_networks();
    let run = |kind: &str| {
        let mut args = vec![
            "whatif",
            datasci.to_str().unwrap(),
            "--guardrail",
            guard.to_str().unwrap(),
            "--guardrail-kind",
            kind,
            "--format",
            "jsonl",
        ];
        args.extend(nets.iter().map(String::as_str));
        let (code, out, err) = iamgate(&args);
        assert_eq!(code, 0, "{err}");
        jsonl(&out)
    };
    let recs = run("endpoint");
    let rows: Vec<&Value> = recs.iter().filter(|r| r.get("verdict").is_some()).collect();
    assert_eq!(rows.len(), 1, "{recs:?}");
    assert_eq!(rows[0]["network"], "vpn");
    assert_eq!(
        (
            rows[0]["before"]["verdict"].as_str(),
            rows[0]["verdict"].as_str()
        ),
        (Some("works"), Some("create-denied"))
    );
    assert_eq!(rows[0]["deciding"]["policy"], "endpoint");
    // A customer RCP may only deny: an Allow is refused once, up front (exit 2), not once per principal.
    let mut args = vec![
        "whatif",
        datasci.to_str().unwrap(),
        "--guardrail",
        guard.to_str().unwrap(),
        "--guardrail-kind",
        "rcp",
    ];
    args.extend(nets.iter().map(String::as_str));
    let (code, _, err) = iamgate(&args);
    assert_eq!(code, 2);
    assert!(err.contains("resource control policy"), "{err}");
    std::fs::write(
        &guard,
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoStudio","Effect":"Deny","Principal":"*","Action":"sagemaker:*","Resource":"*"}]}"#,
    )
    .unwrap();
    let recs = run("rcp");
    assert_eq!(
        recs.iter().filter(|r| r.get("verdict").is_some()).count(),
        0
    );
    assert_eq!(
        recs.last().unwrap()["summary"]["guardrail"]["still_open"]["count"],
        2
    );
    let mut args = vec![
        "whatif",
        datasci.to_str().unwrap(),
        "--guardrail",
        guard.to_str().unwrap(),
        "--guardrail-kind",
        "acl",
    ];
    args.extend(nets.iter().map(String::as_str));
    let (code, _, err) = iamgate(&args);
    assert_eq!(code, 2);
    assert!(err.contains("unknown guardrail kind `acl`"), "{err}");
}

/// A managed policy that does not parse, attached to two roles: one error record per role, each naming the role
/// as its source, the policy and where it was read, and the line and column inside the policy.
#[test]
fn whatif_bad_managed_policy_names_each_principal() {
    let d = tmp("bad-managed");
    let role = |n: &str| {
        format!(
            r#"{{"Arn":"arn:aws:iam::111122223333:role/{n}","AttachedManagedPolicies":[{{"PolicyArn":"arn:aws:iam::111122223333:policy/Bad"}}]}}"#
        )
    };
    let gaad = format!(
        r#"{{"RoleDetailList":[{},{}],"Policies":[{{"Arn":"arn:aws:iam::111122223333:policy/Bad","PolicyVersionList":[{{"VersionId":"v1","IsDefaultVersion":true,"Document":"{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Effect\":\"Allw\",\"Action\":\"*\",\"Resource\":\"*\"}}]}}"}}]}}]}}"#,
        role("a"),
        role("b")
    );
    let f = d.join("gaad.json");
    std::fs::write(&f, gaad).unwrap();
    let net = corpus("corpus/networks/zscaler-only.json");
    let (code, out, _) = iamgate(&[
        "whatif",
        f.to_str().unwrap(),
        "--networks",
        &net,
        "--format",
        "jsonl",
    ]);
    assert_eq!(code, 1);
    let recs = jsonl(&out);
    let errors: Vec<&Value> = recs.iter().filter(|r| r.get("error").is_some()).collect();
    assert_eq!(errors.len(), 2, "{out}");
    for (e, i) in errors.iter().zip([0, 1]) {
        assert!(
            e["source"]
                .as_str()
                .unwrap()
                .ends_with(&format!("gaad.json#$.RoleDetailList[{i}]"))
        );
        let m = e["error"]["message"].as_str().unwrap();
        assert!(
            m.contains("policy `arn:aws:iam::111122223333:policy/Bad`") && m.contains("Allw"),
            "{m}"
        );
        assert_eq!(
            e["error"]["path"],
            "$.Policies[0].PolicyVersionList[0].Document"
        );
        assert_eq!(
            (e["error"]["line"].as_u64(), e["error"]["column"].as_u64()),
            (Some(1), Some(48))
        );
    }
}

/// A folder of networks is its own `.json` files, not recursed: corpus/networks/ gives its presets and leaves
/// the feeds of corpus/networks/feeds/ alone.
#[test]
fn whatif_network_folders_are_not_recursed() {
    let d = tmp("netfolder");
    std::fs::write(d.join("p.json"), PRESIGN_ANYWHERE).unwrap();
    let nets = corpus("corpus/networks");
    let presets = std::fs::read_dir(&nets)
        .unwrap()
        .filter(|e| {
            let p = e.as_ref().unwrap().path();
            p.is_file() && p.extension().is_some_and(|x| x == "json")
        })
        .count();
    let (code, out, err) = iamgate(&[
        "whatif",
        d.to_str().unwrap(),
        "--networks",
        &nets,
        "--format",
        "jsonl",
    ]);
    assert_eq!(code, 0, "{err}");
    let rows = jsonl(&out)
        .iter()
        .filter(|r| r.get("verdict").is_some())
        .count();
    assert_eq!(rows, presets);
    assert!(presets >= 10);
}
