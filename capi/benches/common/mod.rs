//! The set-up that `benches/capi.rs` and `examples/capi_ir.rs` share: the typical Studio bundle
//! (`corpus/bench/bundle.json`, the bundle of `benches/` in one file) loaded twice (compiled for the Rust
//! decide, and into a C ABI engine), and the two requests of `benches/common` (the allowed call through the API
//! endpoint, the public call denied by the OU SCP), each as a Rust `RequestRef` and as the `iamgate_request` a
//! C caller gives (the address as 4 bytes).

#![allow(dead_code)]

use iamgate::bundle::{Bundle, CompiledBundle};
use iamgate::{Decision, Limits, RequestRef, ValueRef};
use iamgate_capi::{
    iamgate_bytes, iamgate_decide, iamgate_decision, iamgate_engine, iamgate_engine_free,
    iamgate_engine_new, iamgate_pair, iamgate_request, iamgate_status,
};
use std::ptr::{null, null_mut};

pub const ACTION: &str = "sagemaker:CreatePresignedDomainUrl";
pub const RESOURCE: &str = "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123/alice";
pub const PRINCIPAL: &str = "arn:aws:iam::111122223333:role/DataSci";

/// The allowed call's context: keys in the order of `iamgate::bundle::NETWORK_KEYS`, then the extra.
pub static VIA_CTX: [(&str, ValueRef<'static>); 4] = [
    ("aws:SourceVpc", ValueRef::One("vpc-0shared00000000001")),
    ("aws:SourceVpce", ValueRef::One("vpce-0api0000000000001")),
    ("aws:VpcSourceIp", ValueRef::One("10.20.1.5")),
    ("aws:ViaAWSService", ValueRef::One("false")),
];
/// The denied public call's context.
pub static PUBLIC_CTX: [(&str, ValueRef<'static>); 2] = [
    ("aws:SourceIp", ValueRef::One("165.225.10.1")),
    ("aws:ViaAWSService", ValueRef::One("false")),
];
static VPC_IP: [u8; 4] = [10, 20, 1, 5];
static PUBLIC_IP: [u8; 4] = [165, 225, 10, 1];

/// Stop the set-up with a message (a bench has no test harness to report to).
pub fn fail(what: &str) -> ! {
    eprintln!("bench setup failed: {what}");
    std::process::exit(1)
}

pub fn bytes(s: &'static str) -> iamgate_bytes {
    iamgate_bytes {
        ptr: s.as_ptr(),
        len: s.len(),
    }
}

pub const NONE: iamgate_bytes = iamgate_bytes {
    ptr: null(),
    len: 0,
};

fn ip(a: &'static [u8; 4]) -> iamgate_bytes {
    iamgate_bytes {
        ptr: a.as_ptr(),
        len: a.len(),
    }
}

/// A C ABI engine, freed on drop.
pub struct CEngine(pub *mut iamgate_engine);
// SAFETY: the engine is Send + Sync by its contract (iamgate_decide may be called from any thread).
unsafe impl Send for CEngine {}
// SAFETY: as above.
unsafe impl Sync for CEngine {}

impl Drop for CEngine {
    fn drop(&mut self) {
        // SAFETY: from iamgate_engine_new, freed once.
        unsafe { iamgate_engine_free(self.0) }
    }
}

/// A C request; its slices point to `'static` data, only read.
#[derive(Clone, Copy)]
pub struct CRequest(pub iamgate_request);
// SAFETY: every slice points to `'static` data that nothing writes.
unsafe impl Send for CRequest {}
// SAFETY: as above.
unsafe impl Sync for CRequest {}

/// `iamgate_decide` without the deciding statement; an error status gives `Error` (the decision says so).
#[inline]
pub fn decide_c(engine: &CEngine, req: &CRequest) -> iamgate_decision {
    let mut status = iamgate_status::Ok;
    // SAFETY: a live engine and a request whose slices outlive the call.
    let d = unsafe { iamgate_decide(engine.0, &req.0, &mut status, null_mut()) };
    if status == iamgate_status::Ok {
        d
    } else {
        iamgate_decision::Error
    }
}

/// One case: the same request for each caller, and what it decides.
pub struct Case {
    pub rust: RequestRef<'static>,
    pub c: CRequest,
    pub want: Decision,
}

/// The bundle and the requests.
pub struct Setup {
    pub text: String,
    pub compiled: CompiledBundle,
    pub engine: CEngine,
    /// Allowed through the API endpoint.
    pub via: Case,
    /// Public, denied by the OU SCP.
    pub public: Case,
    /// The public call with its address as text.
    pub public_text: CRequest,
}

fn rust_request(ctx: &'static [(&'static str, ValueRef<'static>)]) -> RequestRef<'static> {
    RequestRef {
        principal: Some(PRINCIPAL),
        action: ACTION,
        resource: RESOURCE,
        resource_account: None,
        context: ctx,
    }
}

impl Setup {
    /// Load the bundle and build the requests; checks that each decides as expected.
    pub fn new() -> Setup {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../corpus/bench/bundle.json");
        let text = std::fs::read_to_string(path).unwrap_or_else(|_| fail(path));
        let compiled = Bundle::parse(&text, &Limits::default())
            .and_then(|b| b.compile())
            .unwrap_or_else(|e| fail(&e.to_string()));
        let mut raw = null_mut();
        // SAFETY: valid slices and places.
        let st = unsafe { iamgate_engine_new(text.as_ptr(), text.len(), &mut raw, null_mut()) };
        if st != iamgate_status::Ok {
            fail("iamgate_engine_new");
        }
        let engine = CEngine(raw);
        let extra: &'static [iamgate_pair] = Box::leak(Box::new([iamgate_pair {
            key: bytes("aws:ViaAWSService"),
            value: bytes("false"),
        }]));
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
        let via = Case {
            rust: rust_request(&VIA_CTX),
            c: CRequest(iamgate_request {
                vpc_id: bytes("vpc-0shared00000000001"),
                vpce_id: bytes("vpce-0api0000000000001"),
                vpc_source_ip_bytes: ip(&VPC_IP),
                ..base
            }),
            want: Decision::Allow,
        };
        let public = Case {
            rust: rust_request(&PUBLIC_CTX),
            c: CRequest(iamgate_request {
                source_ip_bytes: ip(&PUBLIC_IP),
                ..base
            }),
            want: Decision::ExplicitDeny,
        };
        let public_text = CRequest(iamgate_request {
            source_ip: bytes("165.225.10.1"),
            ..base
        });
        let s = Setup {
            text,
            compiled,
            engine,
            via,
            public,
            public_text,
        };
        let ok = [&s.via, &s.public].iter().all(|c| {
            s.compiled.decide_ref(&c.rust) == Ok(c.want)
                && decide_c(&s.engine, &c.c) == iamgate_decision::from(c.want)
        }) && decide_c(&s.engine, &s.public_text) == iamgate_decision::ExplicitDeny;
        if !ok {
            fail("the requests do not decide as expected");
        }
        s
    }
}
