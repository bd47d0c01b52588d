//! Instruction counts of the C ABI decide against the Rust decide (benches/README.md, "The C ABI and the
//! proxy"): loads the typical Studio bundle (`corpus/bench/bundle.json`) and decides one request `N` times
//! (`MODE`: `rust-via`/`capi-via`, the allowed call through the API endpoint; `rust-public`/`capi-public`, the
//! public call denied by the OU SCP). `rust-*` calls `CompiledBundle::decide_ref` on a `RequestRef`, `capi-*`
//! calls `iamgate_decide` on the same request as a C caller gives it (the address as 4 bytes). Run it under
//! `valgrind --tool=callgrind` for two values of `N`: the difference, divided by the difference in `N`, is the
//! count per decision.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use iamgate::bundle::Bundle;
use iamgate::{Decision, Limits, RequestRef, ValueRef};
use iamgate_capi::{
    iamgate_bytes, iamgate_decide, iamgate_decision, iamgate_engine_free, iamgate_engine_new,
    iamgate_pair, iamgate_request, iamgate_status,
};
use std::hint::black_box;
use std::ptr::{null, null_mut};

const ACTION: &str = "sagemaker:CreatePresignedDomainUrl";
const RESOURCE: &str = "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123/alice";
const PRINCIPAL: &str = "arn:aws:iam::111122223333:role/DataSci";

fn bytes(s: &str) -> iamgate_bytes {
    iamgate_bytes {
        ptr: s.as_ptr(),
        len: s.len(),
    }
}

const NONE: iamgate_bytes = iamgate_bytes {
    ptr: null(),
    len: 0,
};

fn main() {
    let n: usize = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let mode = std::env::var("MODE").unwrap_or_else(|_| "capi-via".into());
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../corpus/bench/bundle.json");
    let text = std::fs::read_to_string(path).unwrap();
    let compiled = Bundle::parse(&text, &Limits::default())
        .and_then(|b| b.compile())
        .unwrap();
    let mut engine = null_mut();
    // SAFETY: valid slices and places.
    let st = unsafe { iamgate_engine_new(text.as_ptr(), text.len(), &mut engine, null_mut()) };
    assert_eq!(st, iamgate_status::Ok);

    // The requests of capi/benches/capi.rs.
    let via_ctx = [
        ("aws:SourceVpc", ValueRef::One("vpc-0shared00000000001")),
        ("aws:SourceVpce", ValueRef::One("vpce-0api0000000000001")),
        ("aws:VpcSourceIp", ValueRef::One("10.20.1.5")),
        ("aws:ViaAWSService", ValueRef::One("false")),
    ];
    let public_ctx = [
        ("aws:SourceIp", ValueRef::One("165.225.10.1")),
        ("aws:ViaAWSService", ValueRef::One("false")),
    ];
    let rust_req = |ctx| RequestRef {
        principal: Some(PRINCIPAL),
        action: ACTION,
        resource: RESOURCE,
        resource_account: None,
        context: ctx,
    };
    let extra = [iamgate_pair {
        key: bytes("aws:ViaAWSService"),
        value: bytes("false"),
    }];
    let vpc_ip = [10u8, 20, 1, 5];
    let public_ip = [165u8, 225, 10, 1];
    let base = iamgate_request {
        action: bytes(ACTION),
        resource: bytes(RESOURCE),
        principal: bytes(PRINCIPAL),
        source_ip: NONE,
        source_ip_bytes: NONE,
        vpc_id: NONE,
        vpce_id: NONE,
        vpc_source_ip: NONE,
        vpc_source_ip_bytes: NONE,
        extra: extra.as_ptr(),
        extra_len: extra.len(),
    };
    let c_via = iamgate_request {
        vpc_id: bytes("vpc-0shared00000000001"),
        vpce_id: bytes("vpce-0api0000000000001"),
        vpc_source_ip_bytes: iamgate_bytes {
            ptr: vpc_ip.as_ptr(),
            len: 4,
        },
        ..base
    };
    let c_public = iamgate_request {
        source_ip_bytes: iamgate_bytes {
            ptr: public_ip.as_ptr(),
            len: 4,
        },
        ..base
    };
    let (ctx, c_req, want): (&[_], _, _) = match mode.split_once('-').map(|(_, r)| r) {
        Some("via") => (&via_ctx, c_via, Decision::Allow),
        Some("public") => (&public_ctx, c_public, Decision::ExplicitDeny),
        _ => panic!("MODE `{mode}`: rust-via, capi-via, rust-public or capi-public"),
    };
    let req = rust_req(ctx);
    let c_want = iamgate_decision::from(want);
    let mut right = 0usize;
    if mode.starts_with("rust") {
        for _ in 0..n {
            let d = compiled.decide_ref(black_box(&req));
            right += usize::from(d == Ok(want));
        }
    } else {
        for _ in 0..n {
            let mut status = iamgate_status::Panic;
            // SAFETY: a live engine and a request whose slices outlive the call.
            let d = unsafe { iamgate_decide(engine, black_box(&c_req), &mut status, null_mut()) };
            right += usize::from(d == c_want && status == iamgate_status::Ok);
        }
    }
    // SAFETY: from iamgate_engine_new, freed once.
    unsafe { iamgate_engine_free(engine) };
    assert_eq!(right, n, "every decision as expected");
}
