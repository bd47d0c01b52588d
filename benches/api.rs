//! The JSON boundary (`iamgate::api`) that the WASM package calls, natively: decide on a held compiled set, the
//! request as JSON text in and the answer as JSON text out, on the `corpus/bench/` bundle. `wasm/bench.mjs` runs
//! the same calls through the WASM package in Node; benches/README.md compares the two.

mod common;

use common::{bench_file, check};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

/// The bundle as `api::compile` input (the Case contract's fields), the same set as `common::bundle_set`.
pub fn bundle_json() -> String {
    let f = |n: &str| serde_json::Value::String(bench_file(n));
    serde_json::json!({
        "identity_policies": [f("identity.json")],
        "permissions_boundary": f("boundary.json"),
        "scps": [[f("scp-full-access.json")], [f("scp-full-access.json"), f("scp-ou-deny-public.json")]],
        "endpoint_policy": f("endpoint.json"),
    })
    .to_string()
}

pub const VIA_ENDPOINT_JSON: &str = r#"{"principal":"arn:aws:iam::111122223333:role/DataSci","action":"sagemaker:CreatePresignedDomainUrl","resource":"arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123/alice","context":{"aws:SourceVpce":"vpce-0api0000000000001","aws:SourceVpc":"vpc-0shared00000000001","aws:VpcSourceIp":"10.20.1.5","aws:ViaAWSService":false}}"#;
pub const PUBLIC_JSON: &str = r#"{"principal":"arn:aws:iam::111122223333:role/DataSci","action":"sagemaker:CreatePresignedDomainUrl","resource":"arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123/alice","context":{"aws:SourceIp":"165.225.10.1","aws:ViaAWSService":false}}"#;

fn api(c: &mut Criterion) {
    let set = match iamgate::api::compile(&bundle_json()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("bench setup failed: {e:?}");
            std::process::exit(1)
        }
    };
    check(
        set.decide(VIA_ENDPOINT_JSON)
            .to_json()
            .contains("\"Allow\""),
        "via endpoint allows",
    );
    check(
        set.decide(PUBLIC_JSON)
            .to_json()
            .contains("\"ExplicitDeny\""),
        "public is denied",
    );
    c.bench_function("api/decide_json/via_endpoint", |b| {
        b.iter(|| set.decide(black_box(VIA_ENDPOINT_JSON)).to_json())
    });
    c.bench_function("api/decide_json/public", |b| {
        b.iter(|| set.decide(black_box(PUBLIC_JSON)).to_json())
    });
    const VIA_ENDPOINT_FIELDS: &str = "arn:aws:iam::111122223333:role/DataSci\u{1f}sagemaker:CreatePresignedDomainUrl\u{1f}arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123/alice\u{1f}aws:SourceVpce\u{1f}vpce-0api0000000000001\u{1f}aws:SourceVpc\u{1f}vpc-0shared00000000001\u{1f}aws:VpcSourceIp\u{1f}10.20.1.5\u{1f}aws:ViaAWSService\u{1f}false";
    check(
        set.decide_fields(VIA_ENDPOINT_FIELDS) == Ok(iamgate::Decision::Allow),
        "fields via endpoint allow",
    );
    c.bench_function("api/decide_fields/via_endpoint", |b| {
        b.iter(|| set.decide_fields(black_box(VIA_ENDPOINT_FIELDS)))
    });
    c.bench_function("api/explain_json/via_endpoint", |b| {
        b.iter(|| set.explain(black_box(VIA_ENDPOINT_JSON)).to_json())
    });
}

criterion_group!(benches, api);
criterion_main!(benches);
