//! `iamgate::api`, the JSON boundary the WASM playground calls: answers, places, and agreement with the batch
//! decisions and the file-reading presign.

use crate::cases::case_files;
use iamgate::api::{self, Answer};
use iamgate::network::{Network, presign};
use iamgate::{Policy, PolicySet};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

fn to_value<T: api::WriteJson>(a: &Answer<T>) -> Value {
    serde_json::from_str(&a.to_json()).unwrap()
}

/// The text of the bytes `span` of `text`.
fn at<'t>(text: &'t str, v: &Value) -> &'t str {
    let s = &v["span"];
    &text[s["start"].as_u64().unwrap() as usize..s["end"].as_u64().unwrap() as usize]
}

#[test]
fn lint_places_a_diagnostic_with_utf16_columns_and_byte_span() {
    // The Sid holds two characters of two UTF-16 units each, so the UTF-16 column of what follows differs from
    // the character column and from the byte column.
    let policy = "{\"Version\": \"2012-10-17\",\n \"Statement\": [{\"Sid\": \"😀😀\",\n   \"Effect\": \"allow\", \"Action\": \"s3:*\", \"Resource\": \"*\"}]}";
    let answer = api::lint(&json!({"policy": policy}).to_string());
    let v = to_value(&answer);
    assert_eq!(v["result"], "success");
    let d = &v["diagnostics"][0];
    assert_eq!(d["code"], "invalid-effect");
    assert_eq!(d["severity"], "error");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(3), Some(14))
    );
    assert_eq!(at(policy, d), "\"allow\"");
    assert_eq!(d["end_column"], 21);
    assert_eq!(v["errors"], 1);

    // On a line after the emoji, the column in UTF-16 units counts each emoji as two.
    let policy = "{\"Version\": \"2012-10-17\", \"Statement\": [{\"Sid\": \"😀\", \"Effect\": \"allow\", \"Action\": \"s3:*\", \"Resource\": \"*\"}]}";
    let v = to_value(&api::lint(&json!({"policy": policy}).to_string()));
    let d = &v["diagnostics"][0];
    let byte = policy.find("\"allow\"").unwrap();
    let utf16 = policy[..byte].encode_utf16().count();
    assert_eq!(d["column"].as_u64(), Some(utf16 as u64 + 1));
    assert_ne!(utf16, policy[..byte].chars().count());
}

#[test]
fn lint_warnings_carry_help_and_the_kind_matters() {
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*",
      "Condition":{"StringEquals":{"aws:SourceVpcID":"vpc-1"}}}]}"#;
    let v = to_value(&api::lint(
        &json!({"policy": policy, "kind": "identity"}).to_string(),
    ));
    let d = &v["diagnostics"][0];
    assert_eq!(d["code"], "unknown-global-key");
    assert!(d["help"].as_str().unwrap().contains("aws:SourceVpc"));
    assert_eq!(at(policy, d), "\"aws:SourceVpcID\"");

    // An identity policy must not have a Principal; an endpoint policy may.
    let with_principal = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}"#;
    let codes = |kind: &str| -> Vec<String> {
        let v = to_value(&api::lint(
            &json!({"policy": with_principal, "kind": kind}).to_string(),
        ));
        v["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["severity"] == "error")
            .map(|d| d["code"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(!codes("identity").is_empty());
    assert!(codes("endpoint").is_empty());
}

#[test]
fn bad_inputs_are_failures_with_places_never_panics() {
    let v = to_value(&api::lint(r#"{"policy": 1}"#));
    assert_eq!(v["result"], "failure");
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("invalid input")
    );
    let v = to_value(&api::lint(r#"{"policy": "{}", "kind": "role"}"#));
    assert_eq!(v["errors"][0]["message"], "unknown policy kind `role`");
    assert_eq!(v["errors"][0]["path"], "$.kind");
    assert_eq!(
        v["errors"][0]["help"],
        "valid kinds are identity, resource, boundary, session, scp, rcp, endpoint, trust, key"
    );
    let v = to_value(&api::lint("{\n  \"policy\": \"x\",\n  \"extra\": 1}"));
    assert_eq!(v["errors"][0]["line"], 3);

    let set = api::compile("{}").unwrap();
    let v = to_value(&set.decide(r#"{"action": "s3GetObject", "resource": "*"}"#));
    assert_eq!(v["result"], "failure");
    assert_eq!(v["errors"][0]["path"], "$.action");
    assert_eq!(v["errors"][0]["column"], 12);
    for garbage in [
        "",
        "[",
        "null",
        "{\"action\": 1}",
        "\u{0}",
        "{\"context\": []}",
    ] {
        let v = to_value(&set.decide(garbage));
        assert_eq!(v["result"], "failure", "{garbage:?}");
        let v = to_value(&set.explain(garbage));
        assert_eq!(v["result"], "failure", "{garbage:?}");
        let v = to_value(&set.presign(garbage));
        assert_eq!(v["result"], "failure", "{garbage:?}");
        let v = to_value(&set.reach(garbage));
        assert_eq!(v["result"], "failure", "{garbage:?}");
    }
}

#[test]
fn compile_reports_every_broken_policy_with_its_name_and_place() {
    let good = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
    let broken = "{\"Version\":\"2012-10-17\",\n\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3\",\"Resource\":\"*\"}]}";
    let input = json!({"identity_policies": [good, broken], "scps": [[good], [good, "{"]],
                       "permissions_boundary": broken})
    .to_string();
    let errors = match api::compile(&input) {
        Err(e) => e,
        Ok(_) => panic!("compiled a broken set"),
    };
    let names: Vec<&str> = errors.iter().filter_map(|e| e.policy.as_deref()).collect();
    assert_eq!(names, ["identity[1]", "boundary", "scps[1][1]"]);
    let p = errors[0].place.unwrap();
    assert_eq!(p.line, 2);
    assert_eq!(
        &broken[p.span.start as usize..p.span.end as usize],
        "\"s3\""
    );
    // Kinds: an unknown one is refused; a KMS key policy must itself allow (an identity Allow is not enough).
    let v = to_value(&api::compile_json(r#"{"resource_kind": "bucket"}"#));
    assert_eq!(v["errors"][0]["path"], "$.resource_kind");
    let v = to_value(&api::compile_json(r#"{"endpoint_kind": "vpn"}"#));
    assert_eq!(v["errors"][0]["path"], "$.endpoint_kind");
    let allow = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}]}"#;
    let key = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/Other"},"Action":"kms:*","Resource":"*"}]}"#;
    let req = r#"{"principal":"arn:aws:iam::111122223333:role/R","action":"kms:Decrypt","resource":"arn:aws:kms:eu-west-1:111122223333:key/k"}"#;
    let decide = |kind: Option<&str>| {
        let mut input = json!({"identity_policies": [allow], "resource_policy": key});
        if let Some(k) = kind {
            input["resource_kind"] = json!(k);
        }
        to_value(&api::compile(&input.to_string()).unwrap().decide(req))["decision"].clone()
    };
    assert_eq!(decide(Some("key")), "ImplicitDeny");
    assert_eq!(decide(Some("resource")), "Allow");
    // A policy must be text or an object.
    let errors = api::compile(r#"{"identity_policies": [7]}"#).err().unwrap();
    assert_eq!(errors[0].policy.as_deref(), Some("identity[0]"));
    // The Case contract's field names; anything else is refused.
    let v = to_value(&api::compile_json(r#"{"identity": []}"#));
    assert_eq!(v["result"], "failure");
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("unknown field `identity`")
    );
    // A principal in an identity policy is a compile error, placed in that policy.
    let with_principal = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}"#;
    let errors = api::compile(&json!({"identity_policies": [with_principal]}).to_string())
        .err()
        .unwrap();
    assert_eq!(errors[0].policy.as_deref(), Some("identity[0]"));
    assert!(errors[0].place.is_some());
}

/// Every case of `corpus/cases`: compiled whole (its policies at their exact text) and decided from its request
/// text, the decision equals the batch record's, and explain's decision, reasons and warnings equal it too.
#[test]
fn decide_and_explain_equal_the_batch_decision_on_every_corpus_case() {
    let (mut compared, mut fields_compared) = (0, 0);
    for p in case_files() {
        let text = std::fs::read_to_string(&p).unwrap();
        let record = serde_json::to_value(iamgate::api::case::decide_case(&text, false)).unwrap();
        let case: Value = serde_json::from_str(&text).unwrap();
        let Ok(set) = api::compile(&text) else {
            assert!(
                record.get("error").is_some(),
                "{}: compile failed",
                p.display()
            );
            continue;
        };
        let request = case["request"].to_string();
        let decided = to_value(&set.decide(&request));
        if record.get("error").is_some() {
            // The case failed on its request; so does the call.
            assert_eq!(decided["result"], "failure", "{}", p.display());
            continue;
        }
        assert_eq!(decided["decision"], record["decision"], "{}", p.display());
        let explained = to_value(&set.explain(&request));
        assert_eq!(explained["decision"], record["decision"], "{}", p.display());
        // The reasons are the record's, each deciding statement's with its place, which is its trace's.
        let mut reasons = explained["reasons"].clone();
        let mut places = Vec::new();
        for r in reasons.as_array_mut().unwrap() {
            places.extend(r.as_object_mut().unwrap().remove("place"));
        }
        assert_eq!(reasons, record["reasons"], "{}", p.display());
        let deciding: Vec<&Value> = explained["deciding"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| &s["place"])
            .collect();
        assert_eq!(
            places.iter().collect::<Vec<_>>(),
            deciding,
            "{}",
            p.display()
        );
        // A batch record also carries what `lint` says of the case's policies (`$.…: lint …`); the API's
        // explanation carries the decision's own warnings, which must be the rest.
        let decision_warnings: Vec<&Value> = record["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|w| !w.as_str().unwrap_or("").contains(": lint "))
            .collect();
        assert_eq!(
            explained["warnings"]
                .as_array()
                .unwrap()
                .iter()
                .collect::<Vec<_>>(),
            decision_warnings,
            "{}",
            p.display()
        );
        // The fields path decides alike when every context value is single (it takes no lists).
        let r = &case["request"];
        let mut fields = format!(
            "{}\u{1f}{}\u{1f}{}",
            r["principal"].as_str().unwrap_or(""),
            r["action"].as_str().unwrap(),
            r["resource"].as_str().unwrap()
        );
        let context = r["context"].as_object().cloned().unwrap_or_default();
        if r.get("resource_account").is_none() && context.values().all(|v| !v.is_array()) {
            for (k, v) in &context {
                let v = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                fields.push_str(&format!("\u{1f}{k}\u{1f}{v}"));
            }
            let d = set.decide_fields(&fields);
            assert_eq!(
                d.clone().map(|d| json!(d)).ok(),
                Some(record["decision"].clone()),
                "{}",
                p.display()
            );
            // With the keys resolved beforehand (as the WASM handle does): its own layout, its keys in the
            // reverse order, and another request's layout all decide alike.
            let own = set.fields_layout(&fields);
            assert_eq!(
                set.decide_fields_with(Some(&own), &fields),
                d,
                "{}",
                p.display()
            );
            let mut reversed = String::from("\u{1f}a\u{1f}r");
            for k in context.keys().rev() {
                reversed.push_str(&format!("\u{1f}{k}\u{1f}v"));
            }
            let reversed = set.fields_layout(&reversed);
            assert_eq!(
                set.decide_fields_with(Some(&reversed), &fields),
                d,
                "{}",
                p.display()
            );
            let foreign = set.fields_layout(&format!(
                "\u{1f}a\u{1f}r\u{1f}aws:SourceVpce\u{1f}v\u{1f}aws:PrincipalTag/team\u{1f}v{}",
                "\u{1f}aws:SourceIp\u{1f}v"
            ));
            assert_eq!(
                set.decide_fields_with(Some(&foreign), &fields),
                d,
                "{}",
                p.display()
            );
            fields_compared += 1;
        }
        compared += 1;
    }
    assert!(compared > 300, "only {compared} cases compared");
    assert!(
        fields_compared > 200,
        "only {fields_compared} cases decided by fields"
    );
}

#[test]
fn explain_places_the_deciding_statement_and_each_condition() {
    let policy = r#"{"Version": "2012-10-17", "Statement": [
  {"Sid": "Allow", "Effect": "Allow", "Action": "sagemaker:CreatePresignedDomainUrl", "Resource": "*"},
  {"Sid": "DenyOutside", "Effect": "Deny", "Action": "*", "Resource": "*",
   "Condition": {"StringNotEqualsIfExists": {"aws:SourceVpce": ["vpce-1", "vpce-2"]},
                 "Bool": {"aws:ViaAWSService": "false"}}}]}"#;
    let set = api::compile(&json!({"identity_policies": [policy]}).to_string()).unwrap();
    let request = json!({"action": "sagemaker:CreatePresignedDomainUrl", "resource": "*",
        "context": {"aws:SourceVpce": "vpce-9", "aws:ViaAWSService": false}})
    .to_string();
    let v = to_value(&set.explain(&request));
    assert_eq!(v["decision"], "ExplicitDeny");
    let deciding = &v["deciding"][0];
    assert_eq!(deciding["sid"], "DenyOutside");
    assert_eq!(deciding["line"].as_u64(), None, "the place is nested");
    let st = at(policy, &deciding["place"]);
    assert!(st.starts_with("{\"Sid\": \"DenyOutside\""));
    assert!(st.ends_with("\"false\"}}}"));
    assert_eq!(deciding["place"]["line"], 3);
    let conds = deciding["conditions"].as_array().unwrap();
    assert_eq!(conds.len(), 2);
    let texts: Vec<(&str, bool)> = conds
        .iter()
        .map(|c| (at(policy, &c["place"]), c["held"].as_bool().unwrap()))
        .collect();
    assert!(texts.contains(&("\"aws:SourceVpce\": [\"vpce-1\", \"vpce-2\"]", true)));
    assert!(texts.contains(&("\"aws:ViaAWSService\": \"false\"", true)));
    // Keys as the policy writes them.
    let keys: Vec<&str> = conds.iter().map(|c| c["key"].as_str().unwrap()).collect();
    assert!(keys.contains(&"aws:ViaAWSService"), "{keys:?}");
    // Every statement consulted is listed, with its place.
    assert_eq!(v["statements"].as_array().unwrap().len(), 2);
    // decide says the same, without the trace.
    let d = to_value(&set.decide(&request));
    assert_eq!(d["decision"], "ExplicitDeny");
    assert!(d.get("statements").is_none());
}

fn feeds() -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for f in ["zscaler-cenr-sample.json", "aws-ip-ranges-sample.json"] {
        m.insert(
            format!("feeds/{f}"),
            std::fs::read_to_string(corpus().join("networks/feeds").join(f)).unwrap(),
        );
    }
    m
}

/// Every network preset: presign through the API with the feeds given inline equals presign of the file read
/// from disk, and reach from the network equals reach from the request and endpoints given apart.
#[test]
fn presign_and_reach_with_inline_feeds_equal_the_file_reading_path() {
    let policy =
        std::fs::read_to_string(corpus().join("policies/studio-via-endpoints.json")).unwrap();
    let set = api::compile(&json!({"identity_policies": [policy]}).to_string()).unwrap();
    let native = PolicySet::builder()
        .identity(Policy::parse(&policy).unwrap())
        .build()
        .unwrap();
    let mut n = 0;
    for e in std::fs::read_dir(corpus().join("networks"))
        .unwrap()
        .flatten()
    {
        let path = e.path();
        if path.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let from_disk =
            serde_json::to_value(presign(&native, &Network::load(&path).unwrap())).unwrap();
        let network: Value = serde_json::from_str(&text).unwrap();
        // The network as a string holding its text: findings in inline endpoint policies are placed in it.
        let input = json!({"network": text, "feeds": feeds()}).to_string();
        let v = to_value(&set.presign(&input));
        assert_eq!(v["result"], "success", "{}", path.display());
        let mut v = v;
        v.as_object_mut().unwrap().remove("result");
        assert_eq!(v, from_disk, "{}", path.display());
        // The network as an object answers the same steps and verdict.
        let as_object =
            to_value(&set.presign(&json!({"network": network, "feeds": feeds()}).to_string()));
        assert_eq!(as_object["steps"], from_disk["steps"]);
        assert_eq!(as_object["verdict"], from_disk["verdict"]);

        let reach =
            to_value(&set.reach(&json!({"network": network, "feeds": feeds()}).to_string()));
        assert_eq!(reach["result"], "success", "{}", path.display());
        let ep = |role: &str| {
            let e = &network["vpc"]["endpoints"][role];
            if e.is_null() {
                Value::Null
            } else {
                let mut o = json!({"id": e["id"]});
                if !e["policy"].is_null() {
                    o["policy"] = e["policy"].clone();
                }
                o
            }
        };
        let region = network["region"].as_str().unwrap();
        let resource = format!(
            "arn:aws:sagemaker:{region}:{}:user-profile/{}/{}",
            network["account"].as_str().unwrap(),
            network["domain_id"].as_str().unwrap(),
            network["user_profile"].as_str().unwrap()
        );
        let mut apart = json!({"request": {"principal": network["principal"],
            "action": "sagemaker:CreatePresignedDomainUrl", "resource": resource}});
        for (field, role) in [("api_endpoint", "api"), ("studio_endpoint", "studio")] {
            let e = ep(role);
            if !e.is_null() {
                apart[field] = e;
            }
        }
        let reach_apart = to_value(&set.reach(&apart.to_string()));
        assert_eq!(reach, reach_apart, "{}", path.display());
        n += 1;
    }
    assert!(n >= 6);
}

#[test]
fn a_feed_not_given_is_an_error_naming_it_and_disk_is_never_read() {
    let text = std::fs::read_to_string(corpus().join("networks/zscaler-r53-dx.json")).unwrap();
    let set = api::compile("{}").unwrap();
    let v = to_value(&set.presign(&json!({"network": text}).to_string()));
    assert_eq!(v["result"], "failure");
    let e = &v["errors"][0];
    assert_eq!(
        e["message"],
        "feed `feeds/zscaler-cenr-sample.json` was not given; no feeds were given"
    );
    assert_eq!(e["path"], "$.network.client.egress.cenr");
    // The place is in the network text: the `cenr` value.
    assert!(at(&text, e).is_empty());
    assert_eq!(
        e["line"].as_u64().unwrap() as usize,
        text[..text.find("\"cenr\"").unwrap()].lines().count()
    );
    let v = to_value(
        &set.presign(&json!({"network": text, "feeds": {"other.json": "[]"}}).to_string()),
    );
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .ends_with("the feeds given are `other.json`")
    );
}

/// The fields text splits at every U+001F, an empty field included: a trailing separator gives the last key an
/// empty value, a key without its separator is refused, and fewer than three fields are refused.
#[test]
fn decide_fields_splits_at_each_separator() {
    let policy = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
      "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalTag/team": ""}}}]}"#;
    let set = api::compile(&json!({"identity_policies": [policy]}).to_string()).unwrap();
    let allow = Ok(iamgate::Decision::Allow);
    let implicit = Ok(iamgate::Decision::ImplicitDeny);
    let base = "\u{1f}s3:GetObject\u{1f}arn:aws:s3:::b/k";
    assert_eq!(
        set.decide_fields(&format!("{base}\u{1f}aws:PrincipalTag/team\u{1f}")),
        allow
    );
    assert_eq!(
        set.decide_fields(&format!("{base}\u{1f}aws:PrincipalTag/team\u{1f}x")),
        implicit
    );
    assert_eq!(set.decide_fields(base), implicit);
    let unpaired = set.decide_fields(&format!("{base}\u{1f}aws:PrincipalTag/team"));
    assert!(unpaired.unwrap_err().message.contains("has no value"));
    assert!(set.decide_fields("\u{1f}s3:GetObject").is_err());
    // The action and resource fields end at the separator, not after it.
    assert_eq!(set.decide_fields("\u{1f}s3:GetObject\u{1f}*"), implicit);
    assert_eq!(
        set.decide_fields("\u{1f}s3:GetObjectX\u{1f}*\u{1f}aws:PrincipalTag/team\u{1f}"),
        implicit
    );
    assert_eq!(
        set.decide_fields("\u{1f}s3:GetObject\u{1f}*\u{1f}aws:PrincipalTag/team\u{1f}"),
        allow
    );
}
