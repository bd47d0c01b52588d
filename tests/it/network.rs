//! The network model: the presign corpus (corpus/presign/), the key-combination property over random network
//! files, bad network files, feeds, and `iamgate presign` as a user runs it.

use iamgate::network::feeds::{CenrFilter, IpRangesFilter, parse_aws_ip_ranges, parse_cenr};
use iamgate::network::{Network, PresignReport, Reach, StepKind, derive, presign};
use iamgate::{Policy, PolicySet};
use proptest::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    v.sort();
    v
}

/// One file of corpus/presign: a policy set, a network, and what the flow must come to.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PresignCase {
    description: String,
    semantics: Vec<String>,
    /// Identity policies, file names under corpus/policies/.
    policies: Vec<String>,
    #[serde(default)]
    boundary: Option<String>,
    #[serde(default)]
    session_policies: Vec<String>,
    /// SCP levels, one file per level.
    #[serde(default)]
    scps: Vec<String>,
    /// A file name under corpus/networks/.
    network: String,
    expect: Expect,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    verdict: String,
    create: ExpectStep,
    #[serde(rename = "use")]
    use_: ExpectStep,
    /// Exactly these findings (as a multiset of codes), each optionally with its place.
    findings: Vec<ExpectFinding>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectStep {
    decision: String,
    /// The endpoint id, `public`, or absent/null for unreachable (only checked when given).
    #[serde(default)]
    endpoint: Option<String>,
    /// The reasons over every outcome, compared as a set.
    #[serde(default)]
    reasons: Option<Vec<Value>>,
    /// Every outcome's source block and decision, in order.
    #[serde(default)]
    outcomes: Option<Vec<ExpectOutcome>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectOutcome {
    source_ip: String,
    decision: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectFinding {
    code: String,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    policy: Option<String>,
    #[serde(default)]
    statement: Option<usize>,
    #[serde(default)]
    line: Option<usize>,
    #[serde(default)]
    column: Option<usize>,
}

fn policy(name: &str) -> Result<Policy, String> {
    let path = corpus().join("policies").join(name);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Policy::parse(&text).map_err(|e| format!("{name}: {e}"))
}

fn run_case(path: &Path) -> Result<PresignReport, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let case: PresignCase =
        serde_json::from_str(&text).map_err(|e| format!("invalid case: {e}"))?;
    if case.description.is_empty() || case.semantics.is_empty() {
        return Err(
            "the case needs a description and the docs/SEMANTICS.md sections it rests on".into(),
        );
    }
    let mut b = PolicySet::builder();
    for p in &case.policies {
        b = b.identity(policy(p)?);
    }
    if let Some(p) = &case.boundary {
        b = b.boundary(policy(p)?);
    }
    for p in &case.session_policies {
        b = b.session(policy(p)?);
    }
    for p in &case.scps {
        b = b.scp_level([policy(p)?]);
    }
    let set = b.build().map_err(|e| e.to_string())?;
    let net = Network::load(&corpus().join("networks").join(&case.network))
        .map_err(|e| format!("network: {e}"))?;
    let report = presign(&set, &net);
    let mut problems = Vec::new();
    if report.verdict.name() != case.expect.verdict {
        problems.push(format!(
            "verdict: expected {}, got {}",
            case.expect.verdict, report.verdict
        ));
    }
    for (kind, want) in [
        (StepKind::Create, &case.expect.create),
        (StepKind::Use, &case.expect.use_),
    ] {
        let Some(got) = report.step(kind) else {
            problems.push(format!("{kind}: no such step"));
            continue;
        };
        if got.decision.to_string() != want.decision {
            problems.push(format!(
                "{kind}: expected {}, got {}",
                want.decision, got.decision
            ));
        }
        if want.endpoint.is_some() && got.endpoint != want.endpoint {
            problems.push(format!(
                "{kind}: expected endpoint {:?}, got {:?}",
                want.endpoint, got.endpoint
            ));
        }
        if want.decision == "Unreachable" && got.endpoint.is_some() {
            problems.push(format!(
                "{kind}: unreachable, but endpoint {:?}",
                got.endpoint
            ));
        }
        if let Some(reasons) = &want.reasons {
            let got_r: BTreeSet<String> = got
                .outcomes
                .iter()
                .flat_map(|o| o.reasons.iter())
                .map(|r| serde_json::to_value(r).unwrap().to_string())
                .collect();
            let want_r: BTreeSet<String> = reasons.iter().map(Value::to_string).collect();
            if got_r != want_r {
                problems.push(format!(
                    "{kind}: reasons differ: expected {want_r:?}, got {got_r:?}"
                ));
            }
        }
        if let Some(outcomes) = &want.outcomes {
            let got_o: Vec<(String, String)> = got
                .outcomes
                .iter()
                .map(|o| (o.source_ip.clone(), o.decision.to_string()))
                .collect();
            let want_o: Vec<(String, String)> = outcomes
                .iter()
                .map(|o| (o.source_ip.clone(), o.decision.clone()))
                .collect();
            if got_o != want_o {
                problems.push(format!(
                    "{kind}: outcomes differ: expected {want_o:?}, got {got_o:?}"
                ));
            }
        }
    }
    let mut got_codes: Vec<&str> = report.findings.iter().map(|f| f.code).collect();
    let mut want_codes: Vec<&str> = case
        .expect
        .findings
        .iter()
        .map(|f| f.code.as_str())
        .collect();
    got_codes.sort_unstable();
    want_codes.sort_unstable();
    if got_codes != want_codes {
        problems.push(format!(
            "findings: expected {want_codes:?}, got {:?}",
            report
                .findings
                .iter()
                .map(|f| format!("{} ({})", f.code, f.message))
                .collect::<Vec<_>>()
        ));
    } else {
        for w in &case.expect.findings {
            let matches = report.findings.iter().any(|f| {
                let sev = serde_json::to_value(f.severity).unwrap();
                f.code == w.code
                    && w.severity.as_ref().is_none_or(|s| sev == json!(s))
                    && w.policy.as_ref().is_none_or(|p| &f.policy == p)
                    && w.statement.is_none_or(|s| f.statement == Some(s))
                    && w.line.is_none_or(|l| f.line == l)
                    && w.column.is_none_or(|c| f.column == c)
            });
            if !matches {
                problems.push(format!(
                    "finding {w:?} not found; got {:?}",
                    report
                        .findings
                        .iter()
                        .map(|f| format!(
                            "{} {:?} {} stmt {:?} at {}:{}",
                            f.code, f.severity, f.policy, f.statement, f.line, f.column
                        ))
                        .collect::<Vec<_>>()
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(report)
    } else {
        Err(problems.join("\n    "))
    }
}

#[test]
fn presign_corpus() {
    let files = json_files(&corpus().join("presign"));
    assert!(
        files.len() >= 30,
        "the presign corpus has only {} cases",
        files.len()
    );
    let failures: Vec<String> = files
        .iter()
        .filter_map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            run_case(p).err().map(|e| format!("{name}:\n    {e}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} presign cases failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn every_preset_parses_and_every_network_is_used() {
    let cases: Vec<String> = json_files(&corpus().join("presign"))
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    for p in json_files(&corpus().join("networks")) {
        let net = Network::load(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let file = p.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(
            format!("{}.json", net.name),
            file,
            "a network's name is its file name"
        );
        assert!(
            cases
                .iter()
                .any(|c| c.contains(&format!("\"network\": \"{file}\""))),
            "{file} is used by no presign case"
        );
    }
}

#[test]
fn presign_json_has_the_design_shape() {
    let report = run_case(&corpus().join("presign/t6-zscaler-half-range-partial.json")).unwrap();
    let v = serde_json::to_value(&report).unwrap();
    assert_eq!(v["network"], "zscaler-only");
    assert_eq!(v["verdict"], "partial");
    let create = &v["steps"][0];
    assert_eq!(create["step"], "create");
    assert_eq!(create["host"], "api.sagemaker.eu-west-1.amazonaws.com");
    assert_eq!(create["endpoint"], "public");
    assert_eq!(create["decision"], "Mixed");
    assert_eq!(
        create["context"],
        json!({"aws:SourceIp": "165.225.0.0/17", "aws:ViaAWSService": false})
    );
    assert_eq!(
        create["outcomes"][0],
        json!({"source_ip": "165.225.0.0/18", "decision": "Allow",
               "reasons": [{"policy": "identity[0]", "sid": "AllowFromPartOfZscaler", "statement": 0, "effect": "Allow"}]})
    );
    assert_eq!(
        create["outcomes"][1]["reasons"],
        json!([{"policy": "identity", "effect": "NoAllow"}])
    );
    assert!(
        create["path"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p.as_str().unwrap().contains("Zscaler"))
    );
    assert_eq!(
        v["steps"][1]["host"],
        "d-abc123.studio.eu-west-1.sagemaker.aws"
    );
    let f = &v["findings"][0];
    for key in [
        "code", "severity", "message", "policy", "line", "column", "help",
    ] {
        assert!(f.get(key).is_some(), "finding without `{key}`: {f}");
    }

    let unreachable =
        run_case(&corpus().join("presign/s65-forwarded-without-private-route.json")).unwrap();
    let v = serde_json::to_value(&unreachable).unwrap();
    assert_eq!(v["steps"][0]["endpoint"], Value::Null);
    assert_eq!(v["steps"][0]["decision"], "Unreachable");
    assert_eq!(v["steps"][0]["outcomes"], json!([]));
    assert!(
        v["steps"][0]["path"][2]
            .as_str()
            .unwrap()
            .contains("no private route"),
        "{}",
        v["steps"][0]["path"]
    );
}

#[test]
fn endpoint_path_context_and_words() {
    let report = run_case(&corpus().join("presign/s67-row2-row3-blog1-works.json")).unwrap();
    let create = report.step(StepKind::Create).unwrap();
    assert_eq!(
        serde_json::to_value(&create.context).unwrap(),
        json!({"aws:SourceVpce": "vpce-0api0000000000001", "aws:SourceVpc": "vpc-0shared00000000001",
               "aws:VpcSourceIp": "10.20.1.5", "aws:ViaAWSService": false})
    );
    assert_eq!(
        create.path[0],
        "client 10.20.1.5 asks corporate DNS for api.sagemaker.eu-west-1.amazonaws.com"
    );
    assert!(
        create.path[1].contains("Route 53 Resolver inbound endpoint 10.0.0.10"),
        "{}",
        create.path[1]
    );
    assert!(
        create.path[1].ends_with("answered with the private IPs of vpce-0api0000000000001"),
        "{}",
        create.path[1]
    );
    assert!(
        create.path[2].starts_with("sent over direct-connect from 10.20.1.5"),
        "{}",
        create.path[2]
    );
    assert!(
        create.path[3].contains("vpce-0api0000000000001 in vpc-0shared00000000001"),
        "{}",
        create.path[3]
    );
}

#[test]
fn findings_point_at_the_condition() {
    let report = run_case(&corpus().join("presign/s67-row6-notipaddress-lockout.json")).unwrap();
    let f = &report.findings[0];
    assert_eq!(f.code, "not-ip-lockout");
    assert_eq!(f.sid.as_deref(), Some("DenyOutsideCorp"));
    assert!(
        f.message
            .contains("`NotIpAddress` on `aws:SourceIp` is true when the key is absent"),
        "{}",
        f.message
    );
    assert!(
        f.help.contains(
            "\"StringNotEqualsIfExists\": {\"aws:SourceVpc\": [\"vpc-0shared00000000001\"]}"
        ),
        "{}",
        f.help
    );
    let text =
        std::fs::read_to_string(corpus().join("policies/notipaddress-lockout.json")).unwrap();
    let line = text.lines().nth(f.line - 1).unwrap();
    assert_eq!(&line[f.column - 1..], "\"NotIpAddress\": {");
}

#[test]
fn inline_endpoint_policy_findings_point_into_the_network_file() {
    let report =
        run_case(&corpus().join("presign/t16-studio-endpoint-policy-createapp-only.json")).unwrap();
    let f = report
        .findings
        .iter()
        .find(|f| f.code == "endpoint-policy-denies")
        .unwrap();
    assert_eq!(f.endpoint.as_deref(), Some("vpce-0studio000000002"));
    let text = std::fs::read_to_string(
        corpus().join("networks/zscaler-r53-dx-studio-createapp-only.json"),
    )
    .unwrap();
    let line = text.lines().nth(f.line - 1).unwrap();
    assert!(
        line.contains("\"Statement\"") && line[f.column - 1..].starts_with('['),
        "{line}"
    );
    // The Studio policy it points at is the one under vpc.endpoints.studio.
    let before: String = text.lines().take(f.line).collect::<Vec<_>>().join("\n");
    assert!(before.rfind("\"studio\"") > before.rfind("\"api\""));
}

// ---------------------------------------------------------------------------------------------------------------
// Bad network files.

fn base_network() -> Value {
    json!({"name": "n", "region": "eu-west-1", "account": "111122223333",
           "principal": "arn:aws:iam::111122223333:role/DataSci", "domain_id": "d-abc123", "user_profile": "alice",
           "vpc": {"id": "vpc-0shared00000000001",
                   "endpoints": {"api": {"id": "vpce-0api0000000000001", "private_dns": true},
                                 "studio": {"id": "vpce-0studio000000002", "private_dns": true}},
                   "inbound_resolver": ["10.0.0.10"]},
           "client": {"ip": "10.20.1.5",
                      "dns_forwarding": ["api.sagemaker.eu-west-1.amazonaws.com", "*.studio.eu-west-1.sagemaker.aws"],
                      "private_route": {"kind": "direct-connect", "source_ip": "10.20.1.5"},
                      "egress": {"kind": "zscaler", "ips": ["165.225.0.0/17"]}},
           "create": {"via": "client"}})
}

fn error_of(v: &Value) -> iamgate::network::NetworkError {
    let text = serde_json::to_string_pretty(v).unwrap();
    Network::parse(&text, None).expect_err("the network should be refused")
}

#[test]
fn the_base_network_is_valid() {
    let text = serde_json::to_string_pretty(&base_network()).unwrap();
    Network::parse(&text, None).unwrap();
}

#[test]
fn forwarded_name_without_an_endpoint_to_answer_it() {
    let mut v = base_network();
    v["vpc"]["endpoints"]
        .as_object_mut()
        .unwrap()
        .remove("studio");
    let e = error_of(&v);
    assert_eq!(e.path, "$.client.dns_forwarding[1]");
    assert!(
        e.message
            .contains("no Studio endpoint (`vpc.endpoints.studio`)"),
        "{}",
        e.message
    );
    assert!(e.help.unwrap().contains("private_dns"));
    let mut v = base_network();
    v["vpc"]["endpoints"]["api"]["private_dns"] = json!(false);
    let e = error_of(&v);
    assert_eq!(e.path, "$.client.dns_forwarding[0]");
    assert!(e.message.contains("`private_dns` false"), "{}", e.message);
}

#[test]
fn forwarded_name_that_no_endpoint_answers() {
    let mut v = base_network();
    v["client"]["dns_forwarding"] = json!(["sts.eu-west-1.amazonaws.com"]);
    let e = error_of(&v);
    assert_eq!(e.path, "$.client.dns_forwarding[0]");
    assert!(
        e.message.contains("no endpoint of the network answers it"),
        "{}",
        e.message
    );
    // The Studio zone is answered by the Studio endpoint, whatever the domain.
    v["client"]["dns_forwarding"] = json!([
        "studio.eu-west-1.sagemaker.aws",
        "d-other.studio.eu-west-1.sagemaker.aws"
    ]);
    Network::parse(&v.to_string(), None).unwrap();
}

#[test]
fn private_route_without_vpc() {
    let mut v = base_network();
    v.as_object_mut().unwrap().remove("vpc");
    v["client"]
        .as_object_mut()
        .unwrap()
        .remove("dns_forwarding");
    let e = error_of(&v);
    assert_eq!(e.path, "$.client.private_route");
    assert_eq!(
        e.message,
        "a private route leads to a VPC, but the network has no `vpc`"
    );
    let text = serde_json::to_string_pretty(&v).unwrap();
    let line = text.lines().nth(e.line - 1).unwrap();
    assert!(line[e.column - 1..].starts_with('{'), "{line}");
}

#[test]
fn unknown_kinds_name_the_valid_ones() {
    let mut v = base_network();
    v["client"]["private_route"]["kind"] = json!("dx");
    let e = error_of(&v);
    assert_eq!(e.path, "$.client.private_route.kind");
    assert_eq!(
        e.message,
        "unknown private route kind `dx`; valid kinds are `direct-connect`, `vpn` and `zpa`"
    );
    let mut v = base_network();
    v["client"]["egress"]["kind"] = json!("proxy");
    assert_eq!(error_of(&v).path, "$.client.egress.kind");
    let mut v = base_network();
    v["create"]["via"] = json!("lambda");
    let e = error_of(&v);
    assert_eq!(e.path, "$.create.via");
    assert!(e.message.contains("`client`, `console` and `vpc`"));
}

#[test]
fn unparseable_addresses() {
    let mut v = base_network();
    v["client"]["ip"] = json!("10.20.1.500");
    let e = error_of(&v);
    assert_eq!(e.path, "$.client.ip");
    assert!(
        e.message
            .contains("`10.20.1.500` is not an IP address or CIDR block"),
        "{}",
        e.message
    );
    let mut v = base_network();
    v["client"]["egress"]["ips"] = json!(["165.225.0.0/33"]);
    assert_eq!(error_of(&v).path, "$.client.egress.ips[0]");
    let mut v = base_network();
    v["vpc"]["inbound_resolver"] = json!(["10.0.0.0/24"]);
    let e = error_of(&v);
    assert_eq!(e.path, "$.vpc.inbound_resolver[0]");
    assert!(e.message.contains("is a range"), "{}", e.message);
    let mut v = base_network();
    v["client"]["egress"] = json!({"kind": "nat", "ips": ["10.1.0.1"]});
    let e = error_of(&v);
    assert_eq!(e.path, "$.client.egress.ips[0]");
    assert!(e.message.contains("private"), "{}", e.message);
}

#[test]
fn dns_forwarding_without_inbound_resolver() {
    let mut v = base_network();
    v["vpc"].as_object_mut().unwrap().remove("inbound_resolver");
    let e = error_of(&v);
    assert_eq!(e.path, "$.client.dns_forwarding");
    assert!(
        e.message.contains("no `vpc.inbound_resolver`"),
        "{}",
        e.message
    );
    // A ZPA App Connector resolves in the VPC itself.
    v["client"]["private_route"]["kind"] = json!("zpa");
    Network::parse(&v.to_string(), None).unwrap();
}

#[test]
fn vpc_creation_needs_the_api_endpoint_and_an_address() {
    let mut v = base_network();
    v["create"] = json!({"via": "vpc", "source_ip": "10.0.3.25"});
    v["vpc"]["endpoints"].as_object_mut().unwrap().remove("api");
    v["client"]["dns_forwarding"] = json!(["*.studio.eu-west-1.sagemaker.aws"]);
    let e = error_of(&v);
    assert_eq!(e.path, "$.create.via");
    assert!(
        e.message.contains("no `vpc.endpoints.api`"),
        "{}",
        e.message
    );
    // Without its address, every private IPv4 address of the service is decided.
    let mut v = base_network();
    v["create"] = json!({"via": "vpc"});
    let net = Network::parse(&v.to_string(), None).unwrap();
    let steps = derive(&net);
    let (key, ranges) = steps[0].varying().unwrap();
    assert_eq!(key, "aws:VpcSourceIp");
    assert_eq!(ranges.len(), 3);
    let mut v = base_network();
    v.as_object_mut().unwrap().remove("vpc");
    v["client"] = json!({"ip": "203.0.113.7"});
    v["create"] = json!({"via": "vpc", "source_ip": "10.0.3.25"});
    assert!(error_of(&v).message.contains("no `vpc`"));
}

#[test]
fn unknown_fields_and_missing_fields() {
    let mut v = base_network();
    v["client"]["dns_forwarded"] = json!([]);
    let e = error_of(&v);
    assert_eq!(e.path, "$.client.dns_forwarded");
    assert!(
        e.message
            .starts_with("unknown field `dns_forwarded`; valid fields here are `ip`"),
        "{}",
        e.message
    );
    let mut v = base_network();
    v.as_object_mut().unwrap().remove("domain_id");
    let e = error_of(&v);
    assert_eq!(e.path, "$.domain_id");
    assert!(e.message.contains("has no `domain_id`"));
    let e = Network::parse("{\"name\": \"x\",\n  \"region\": }", None).unwrap_err();
    assert_eq!((e.line, e.path.as_str()), (2, "$"));
    // A field written twice is an error at its second name, not the last value silently kept.
    let text = base_network().to_string();
    let twice = text.replacen('{', "{\"name\": \"first\", ", 1);
    let e = Network::parse(&twice, None).unwrap_err();
    assert_eq!(e.path, "$.name");
    assert_eq!(e.message, "field `name` appears twice");
    assert!(e.column > 20, "placed at the second `name`: {e:?}");
}

#[test]
fn bad_endpoint_policy_is_placed_in_the_network_file() {
    let mut v = base_network();
    v["vpc"]["endpoints"]["studio"]["policy"] = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"}]});
    let text = serde_json::to_string_pretty(&v).unwrap();
    let e = Network::parse(&text, None).unwrap_err();
    assert_eq!(e.path, "$.vpc.endpoints.studio.policy");
    assert!(e.message.contains("`Principal`"), "{}", e.message);
    let line = text.lines().nth(e.line - 1).unwrap();
    assert!(line[e.column - 1..].starts_with('{'), "{line}");
    // As a string, the place is within the policy text.
    v["vpc"]["endpoints"]["studio"]["policy"] = json!("{\"Statement\": [{\"Effect\": \"Alow\"}]}");
    let e = error_of(&v);
    assert!(e.message.ends_with("(in the policy text)"), "{}", e.message);
    assert_eq!((e.line, e.column), (1, 27));
}

#[test]
fn feeds_need_a_folder_and_report_bad_filters() {
    let mut v = base_network();
    v["client"]["egress"]["cenr"] = json!("zscaler-cenr-sample.json");
    let e = error_of(&v);
    assert_eq!(e.path, "$.client.egress.cenr");
    let text = v.to_string();
    let feeds = corpus().join("networks/feeds");
    let net = Network::parse(&text, Some(&feeds)).unwrap();
    assert_eq!(net.client.egress.as_ref().unwrap().feeds.len(), 8);
    v["client"]["egress"]["cenr"] = json!({"path": "zscaler-cenr-sample.json", "city": "Atlantis"});
    let e = Network::parse(&v.to_string(), Some(&feeds)).unwrap_err();
    assert!(
        e.message.contains("the filter `Atlantis` matches no city"),
        "{}",
        e.message
    );
}

#[test]
fn sample_feeds_parse_with_filters() {
    let cenr =
        std::fs::read_to_string(corpus().join("networks/feeds/zscaler-cenr-sample.json")).unwrap();
    let all = parse_cenr(&cenr, &CenrFilter::default()).unwrap();
    assert_eq!(all.len(), 8);
    assert!(
        all.iter()
            .any(|r| r.net.to_string() == "2400:7aa0:1200::/40")
    );
    let f = CenrFilter {
        continents: vec!["EMEA".into()],
        cities: vec!["city : London III".into()],
        ..CenrFilter::default()
    };
    let london = parse_cenr(&cenr, &f).unwrap();
    assert_eq!(
        london.iter().map(|r| r.net.to_string()).collect::<Vec<_>>(),
        ["165.225.196.0/23", "147.161.224.0/23"]
    );
    let ipr =
        std::fs::read_to_string(corpus().join("networks/feeds/aws-ip-ranges-sample.json")).unwrap();
    assert_eq!(
        parse_aws_ip_ranges(&ipr, &IpRangesFilter::default())
            .unwrap()
            .len(),
        9
    );
    let f = IpRangesFilter {
        services: vec!["CLOUDFRONT".into()],
        regions: vec![],
    };
    let cf = parse_aws_ip_ranges(&ipr, &f).unwrap();
    assert_eq!(
        cf.iter().map(|r| r.net.to_string()).collect::<Vec<_>>(),
        ["13.32.0.0/15", "2600:9000::/28"]
    );
    let bad = IpRangesFilter {
        services: vec![],
        regions: vec!["mars-north-1".into()],
    };
    assert!(parse_aws_ip_ranges(&ipr, &bad).is_err());
}

// ---------------------------------------------------------------------------------------------------------------
// Property: the derived contexts never hold a key combination AWS could not produce (docs/SEMANTICS.md §5.2).

const API_NAME: &str = "api.sagemaker.eu-west-1.amazonaws.com";
const FORWARDABLE: [&str; 5] = [
    "api.sagemaker.eu-west-1.amazonaws.com",
    "*.studio.eu-west-1.sagemaker.aws",
    "studio.eu-west-1.sagemaker.aws",
    "sts.eu-west-1.amazonaws.com",
    "api.sagemaker.us-east-1.amazonaws.com",
];

#[derive(Debug, Clone)]
struct Gen {
    vpc: bool,
    api: Option<bool>,
    studio: Option<bool>,
    resolver: bool,
    in_vpc: bool,
    client_ip: &'static str,
    forwarding: Vec<&'static str>,
    route: Option<(&'static str, Option<&'static str>)>,
    egress: Option<(&'static str, Vec<&'static str>)>,
    create: (&'static str, Option<&'static str>),
}

fn networks() -> impl Strategy<Value = Gen> {
    (
        any::<bool>(),
        prop::option::of(any::<bool>()),
        prop::option::of(any::<bool>()),
        any::<bool>(),
        any::<bool>(),
        prop::sample::select(vec![
            "10.20.1.5",
            "192.168.1.20",
            "10.20.0.0/24",
            "203.0.113.7",
            "2001:db8::5",
        ]),
        prop::sample::subsequence(FORWARDABLE.to_vec(), 0..=3),
        prop::option::of((
            prop::sample::select(vec!["direct-connect", "vpn", "zpa"]),
            prop::option::of(prop::sample::select(vec!["10.99.0.5", "10.0.5.0/28"])),
        )),
        prop::option::of((
            prop::sample::select(vec!["zscaler", "nat", "direct"]),
            prop::sample::subsequence(
                vec![
                    "165.225.0.0/17",
                    "198.51.100.0/28",
                    "2400:7aa0:1200::/40",
                    "203.0.113.9",
                ],
                0..=2,
            ),
        )),
        (
            prop::sample::select(vec!["client", "console", "vpc"]),
            prop::option::of(prop::sample::select(vec!["10.0.3.25", "198.51.100.20"])),
        ),
    )
        .prop_map(
            |(vpc, api, studio, resolver, in_vpc, client_ip, forwarding, route, egress, create)| {
                Gen {
                    vpc,
                    api,
                    studio,
                    resolver,
                    in_vpc,
                    client_ip,
                    forwarding,
                    route,
                    egress,
                    create,
                }
            },
        )
}

fn covers(name: &str, host: &str) -> bool {
    match name.strip_prefix("*.") {
        Some(d) => host.ends_with(&format!(".{d}")),
        None => host == name || host.ends_with(&format!(".{name}")),
    }
}

/// Turn random choices into a network file the reader must accept: drop what would be inconsistent.
fn build(g: &Gen) -> Value {
    let mut v = json!({"name": "prop", "region": "eu-west-1", "account": "111122223333",
                       "principal": "arn:aws:iam::111122223333:role/DataSci",
                       "domain_id": "d-abc123", "user_profile": "alice",
                       "client": {"ip": g.client_ip}});
    let private_client = !(g.client_ip == "203.0.113.7" || g.client_ip == "2001:db8::5");
    let mut has_api = false;
    let mut answers = Vec::new();
    if g.vpc {
        let mut endpoints = json!({});
        if let Some(dns) = g.api {
            endpoints["api"] = json!({"id": "vpce-0api0000000000001", "private_dns": dns});
            has_api = true;
            if dns {
                answers.push(API_NAME);
            }
        }
        if let Some(dns) = g.studio {
            endpoints["studio"] = json!({"id": "vpce-0studio000000002", "private_dns": dns,
                "policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}});
            if dns {
                answers.push("d-abc123.studio.eu-west-1.sagemaker.aws");
            }
        }
        v["vpc"] = json!({"id": "vpc-0shared00000000001", "endpoints": endpoints});
        if g.resolver {
            v["vpc"]["inbound_resolver"] = json!(["10.0.0.10"]);
        }
        if g.in_vpc {
            v["client"]["in_vpc"] = json!(true);
        } else if let Some((kind, src)) = g.route {
            v["client"]["private_route"] = json!({"kind": kind});
            if let Some(s) = src {
                v["client"]["private_route"]["source_ip"] = json!(s);
            }
        }
        let can_forward = g.resolver || g.in_vpc || (g.route.is_some_and(|r| r.0 == "zpa"));
        let hosts = [API_NAME, "d-abc123.studio.eu-west-1.sagemaker.aws"];
        let names: Vec<&str> = g
            .forwarding
            .iter()
            .copied()
            .filter(|n| {
                hosts.iter().any(|h| covers(n, h))
                    && hosts.iter().all(|h| !covers(n, h) || answers.contains(h))
            })
            .collect();
        if can_forward && !names.is_empty() {
            v["client"]["dns_forwarding"] = json!(names);
        }
    }
    if let Some((kind, ips)) = &g.egress {
        let ips: Vec<&str> = ips.clone();
        let ok = match *kind {
            "direct" => !ips.is_empty() || !private_client,
            _ => !ips.is_empty(),
        };
        if ok {
            v["client"]["egress"] = json!({"kind": kind});
            if !ips.is_empty() {
                v["client"]["egress"]["ips"] = json!(ips);
            }
        }
    }
    let (via, src) = g.create;
    match via {
        "vpc" if has_api => {
            v["create"] = json!({"via": "vpc", "source_ip": src.unwrap_or("10.0.3.25")})
        }
        "console" => {
            v["create"] = json!({"via": "console"});
            if src == Some("198.51.100.20") {
                v["create"]["source_ip"] = json!("198.51.100.20");
            }
        }
        _ => v["create"] = json!({"via": "client"}),
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn derived_contexts_are_possible(g in networks()) {
        let v = build(&g);
        let net = Network::parse(&serde_json::to_string_pretty(&v).unwrap(), None)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{v:#}")))?;
        let steps = derive(&net);
        prop_assert_eq!(steps.len(), 2);
        for s in &steps {
            let mut keys: BTreeSet<String> = s.request.context.iter().map(|(k, _)| k.to_string()).collect();
            if let Some((k, ranges)) = s.varying() {
                prop_assert!(!ranges.is_empty());
                keys.insert(k.to_ascii_lowercase());
            }
            let endpoint_keys = ["aws:sourcevpc", "aws:sourcevpce", "aws:vpcsourceip"];
            let n = endpoint_keys.iter().filter(|k| keys.contains(**k)).count();
            prop_assert!(n == 0 || n == 3, "endpoint keys come together: {:?}", keys);
            prop_assert!(!(keys.contains("aws:sourceip") && n > 0), "aws:SourceIp with endpoint keys: {:?}", keys);
            prop_assert!(!keys.contains("aws:sourcevpcarn"), "aws:SourceVpcArn is never set for SageMaker");
            prop_assert!(!keys.iter().any(|k| k.starts_with("aws:vpce")), "aws:Vpce* keys are never set for SageMaker");
            prop_assert!(keys.iter().all(|k| k.starts_with("aws:")), "{:?}", keys);
            let expected: BTreeSet<String> = s.context_keys().iter().map(|k| k.to_ascii_lowercase()).collect();
            prop_assert_eq!(&keys, &expected);
            match &s.reach {
                Reach::Public { source_ips } => {
                    prop_assert!(keys.contains("aws:sourceip"));
                    prop_assert!(source_ips.iter().all(|r| !iamgate::network::is_private(r)), "{:?}", source_ips);
                }
                Reach::Endpoint { id, vpc, .. } => {
                    prop_assert_eq!(n, 3);
                    prop_assert_eq!(vpc.as_str(), "vpc-0shared00000000001");
                    prop_assert!(id == "vpce-0api0000000000001" || id == "vpce-0studio000000002");
                    let want = if s.step == StepKind::Create { "vpce-0api0000000000001" } else { "vpce-0studio000000002" };
                    prop_assert_eq!(id.as_str(), want);
                }
                Reach::Unreachable => prop_assert!(keys.is_empty()),
            }
            if !keys.is_empty() {
                let via = s.request.context.get("aws:ViaAWSService").and_then(|v| v.as_slice().first().and_then(|x| x.boolean()));
                prop_assert_eq!(via, Some(false));
            }
        }
        // Deciding covers the varying range exactly: the outcomes' blocks are the range, aggregated.
        let allow = Policy::parse(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*",
            "Condition":{"IpAddress":{"aws:SourceIp":"165.225.0.0/18"}}}]}"#).unwrap();
        let report = presign(&PolicySet::builder().identity(allow).build().unwrap(), &net);
        for (s, d) in report.steps.iter().zip(&steps) {
            let got: Vec<ipnet::IpNet> = s.outcomes.iter().map(|o| {
                o.source_ip.parse::<ipnet::IpNet>().or_else(|_| o.source_ip.parse::<std::net::IpAddr>().map(ipnet::IpNet::from)).unwrap()
            }).collect();
            let want = d.varying().map(|(_, r)| ipnet::IpNet::aggregate(&r.to_vec())).unwrap_or_default();
            let mut got = ipnet::IpNet::aggregate(&got);
            let mut want = want;
            got.sort();
            want.sort();
            prop_assert_eq!(got, want);
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The command line.

#[cfg(feature = "cli")]
mod cli {
    use super::corpus;
    use std::process::Command;

    fn presign(args: &[&str]) -> (i32, String, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_iamgate"))
            .arg("presign")
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn file(rel: &str) -> String {
        corpus().join(rel).display().to_string()
    }

    #[test]
    fn works_exits_zero_with_the_path_in_words() {
        let (code, out, err) = presign(&[
            "--policy",
            &file("policies/studio-via-endpoints.json"),
            "--network",
            &file("networks/zscaler-r53-dx.json"),
        ]);
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.contains("create: sagemaker:CreatePresignedDomainUrl to api.sagemaker.eu-west-1.amazonaws.com"), "{out}");
        assert!(
            out.contains("  3. sent over direct-connect from 10.20.1.5"),
            "{out}"
        );
        assert!(out.contains("  context: aws:SourceVpc=vpc-0shared00000000001, aws:SourceVpce=vpce-0api0000000000001"), "{out}");
        assert!(
            out.contains("    Allow by identity[0] statement 0 (AllowStudioViaEndpoints)"),
            "{out}"
        );
        assert!(out.contains("verdict: works"), "{out}");
    }

    #[test]
    fn mixed_steps_show_each_sub_range_and_findings_exit_one() {
        let (code, out, _) = presign(&[
            "--policy",
            &file("policies/sourceip-zscaler-half.json"),
            "--network",
            &file("networks/zscaler-only.json"),
        ]);
        assert_eq!(code, 1);
        assert!(out.contains("  decision: Mixed\n    165.225.0.0/18: Allow\n      Allow by identity[0] statement 0"), "{out}");
        assert!(out.contains("    165.225.64.0/18: ImplicitDeny\n      no statement in identity allows the request"), "{out}");
        assert!(out.contains("verdict: partial"), "{out}");
        assert!(out.contains("warning[shared-egress-allowed]"), "{out}");
        assert!(out.contains("sourceip-zscaler-half.json:13:9"), "{out}");
    }

    #[test]
    fn json_is_one_record_and_denied_exits_one() {
        let (code, out, _) = presign(&[
            "--policy",
            &file("policies/notipaddress-lockout.json"),
            "--network",
            &file("networks/zscaler-r53-dx.json"),
            "--json",
        ]);
        assert_eq!(code, 1);
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["verdict"], "create-denied");
        assert_eq!(v["steps"][0]["endpoint"], "vpce-0api0000000000001");
        assert_eq!(v["findings"][0]["code"], "not-ip-lockout");
        assert_eq!(v["findings"][0]["policy"], "identity[0]");
    }

    #[test]
    fn shared_feeds_from_the_command_line() {
        let (code, out, _) = presign(&[
            "--policy",
            &file("policies/sourceip-corp-allowlist.json"),
            "--network",
            &file("networks/console-corporate-nat.json"),
            "--json",
        ]);
        assert_eq!(code, 0, "{out}");
        let (code, out, _) = presign(&[
            "--policy",
            &file("policies/sourceip-ec2-allowlist.json"),
            "--network",
            &file("networks/console-corporate-nat.json"),
            "--ip-ranges",
            &file("networks/feeds/aws-ip-ranges-sample.json"),
            "--json",
        ]);
        assert_eq!(code, 1);
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["findings"][0]["code"], "shared-egress-allowed");
        assert!(
            v["findings"][0]["message"]
                .as_str()
                .unwrap()
                .contains("AWS EC2 eu-west-1")
        );
    }

    #[test]
    fn bad_network_exits_one_and_usage_two() {
        let dir = std::env::temp_dir().join(format!("iamgate-presign-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bad = dir.join("bad.json");
        std::fs::write(
            &bad,
            r#"{"name": "bad", "region": "eu-west-1", "account": "111122223333",
  "principal": "arn:aws:iam::111122223333:role/DataSci", "domain_id": "d-abc123", "user_profile": "alice",
  "client": {"ip": "10.20.1.5", "private_route": {"kind": "vpn"}}}"#,
        )
        .unwrap();
        let (code, _, err) = presign(&[
            "--policy",
            &file("policies/allow-presign.json"),
            "--network",
            bad.to_str().unwrap(),
        ]);
        assert_eq!(code, 1);
        // One error style: message, file:line:column, the JSON path (tests/it/newuser.rs checks the rest).
        assert!(
            err.contains("error: a private route leads to a VPC, but the network has no `vpc`"),
            "{err}"
        );
        assert!(err.contains("bad.json:3:50"), "{err}");
        assert!(err.contains("at `$.client.private_route`"), "{err}");
        let (code, _, _) = presign(&["--policy", &file("policies/allow-presign.json")]);
        assert_eq!(code, 2);
        let (code, _, _) = presign(&[
            "--policy",
            &file("policies/allow-presign.json"),
            "--network",
            "/nonexistent.json",
        ]);
        assert_eq!(code, 2);
    }
}

/// One code per trap (iamgate::traps): where `lint` and `presign` both report a trap of docs/SEMANTICS.md §7 for
/// the same policy, they use the same code, the registry's.
#[test]
fn lint_and_presign_name_a_trap_alike() {
    use iamgate::validate::{PolicyKind, validate};
    for (case, code) in [
        ("t1-notipaddressifexists-does-not-fix", "not-ip-lockout"),
        ("t8-ifexists-sourcevpce-admits-public", "ifexists-widening"),
        ("t7-forallvalues-admits-public", "forallvalues-network-key"),
        ("t2-deny-not-sourcevpce-console", "console-broken"),
    ] {
        let path = corpus().join("presign").join(format!("{case}.json"));
        let report = run_case(&path).unwrap();
        assert!(
            report.findings.iter().any(|f| f.code == code),
            "{case}: presign did not report `{code}`"
        );
        let file: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let name = file["policies"][0].as_str().unwrap();
        let linted = validate(&policy(name).unwrap(), PolicyKind::Identity);
        assert!(
            linted.iter().any(|d| d.code == code),
            "{case}: lint did not report `{code}`: {:?}",
            linted.iter().map(|d| d.code).collect::<Vec<_>>()
        );
        let trap = iamgate::traps::find(code).unwrap();
        assert!(trap.by_lint() && trap.by_presign(), "{code}");
    }
}

/// The condition-key catalog (iamgate::keys) covers every key the network model sets on a request, with the type
/// its value has, and checks each at ingest: what the evaluator reads as typed is typed in one place.
#[test]
fn every_key_the_network_model_sets_is_in_the_key_catalog() {
    use iamgate::context::ContextValue;
    use iamgate::keys::{KeyType, global_key};
    let mut keys = BTreeSet::new();
    for path in json_files(&corpus().join("networks")) {
        let Ok(net) = Network::load(&path) else {
            continue;
        };
        for step in derive(&net) {
            for key in step.context_keys() {
                assert!(global_key(key).is_some(), "`{key}` is not in the catalog");
            }
            let request = match step.varying() {
                Some((_, ips)) if !ips.is_empty() => step.request_at(ips[0].addr()),
                _ => step.request.clone(),
            };
            for (key, value) in request.context.iter() {
                let k = global_key(key).unwrap_or_else(|| panic!("`{key}` is not in the catalog"));
                assert!(k.checked, "`{key}` is not checked at ingest");
                let ContextValue::One(v) = value else {
                    panic!("`{key}` set as a list")
                };
                let fits = match k.ty {
                    KeyType::Ip => v.ip().is_some(),
                    KeyType::Bool => v.boolean().is_some(),
                    KeyType::String | KeyType::Arn => true,
                    KeyType::Date | KeyType::Epoch => v.timestamp().is_some(),
                    KeyType::Numeric => v.number().is_some(),
                    other => panic!("`{key}`: a key type this test does not know, {other:?}"),
                };
                assert!(fits, "`{key}` = `{}` does not fit {:?}", v.text(), k.ty);
                keys.insert(k.name);
            }
        }
    }
    for key in [
        "aws:SourceIp",
        "aws:SourceVpc",
        "aws:SourceVpce",
        "aws:ViaAWSService",
    ] {
        assert!(keys.contains(key), "no network sets `{key}`: {keys:?}");
    }
}

/// Each checked string field of a network file (region, account, principal, domain id, user profile, VPC id,
/// endpoint id), given a bad value: the error quotes the value, says what is wrong, and points at the value (its
/// line, column and JSON path). size6 reads these fields through one function; the texts are those it replaced.
#[test]
fn size6_checked_fields_name_the_value_and_its_place() {
    let text = std::fs::read_to_string(corpus().join("networks/vpn.json")).unwrap();
    let cases = [
        (
            "\"eu-west-1\"",
            "$.region",
            "is not an AWS region name; write for example `eu-west-1`",
        ),
        (
            "\"111122223333\"",
            "$.account",
            "is not a 12-digit account id",
        ),
        (
            "\"arn:aws:iam::111122223333:role/DataSci\"",
            "$.principal",
            "is not an ARN; write for example `arn:aws:iam::111122223333:role/DataSci`",
        ),
        (
            "\"d-abc123\"",
            "$.domain_id",
            "is not a domain id; a domain id is `d-` then lowercase letters, digits and `-` (docs/SEMANTICS.md §6.1)",
        ),
        (
            "\"alice\"",
            "$.user_profile",
            "is not a user profile name; use letters, digits and `-`, at most 63 (docs/SEMANTICS.md §6.1)",
        ),
        (
            "\"vpc-0shared00000000001\"",
            "$.vpc.id",
            "is not a VPC id; write for example `vpc-0shared00000000001`",
        ),
        (
            "\"vpce-0api0000000000001\"",
            "$.vpc.endpoints.api.id",
            "is not a VPC endpoint id; write for example `vpce-0api0000000000001`",
        ),
    ];
    for (good, path, says) in cases {
        let at = text.find(good).unwrap();
        let bad = "x/y"; // none of the fields takes it
        let broken = format!("{}\"{bad}\"{}", &text[..at], &text[at + good.len()..]);
        let e = Network::parse(&broken, None).unwrap_err();
        assert_eq!(e.message, format!("`{bad}` {says}"), "{path}");
        assert_eq!(e.path, path);
        let line = text[..at].matches('\n').count() + 1;
        let column = text[..at].rsplit('\n').next().unwrap().chars().count() + 1;
        assert_eq!((e.line, e.column), (line, column), "{path}");
    }
}
