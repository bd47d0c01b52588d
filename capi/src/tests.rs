//! The C ABI's contract, called as C calls it: fail closed on every error, one test per case.

use super::*;
use std::ptr::{null, null_mut};

/// The action that makes [`iamgate_decide`] panic in test builds, to check that the panic is caught.
const PANIC_ACTION: &str = "test:Panic";

pub(crate) fn maybe_panic(req: &iamgate_request) {
    // SAFETY: the test passes readable slices.
    if let Ok(Some(a)) = unsafe { text(req.action) } {
        if a == PANIC_ACTION {
            panic!("a panic inside iamgate_decide");
        }
    }
}

/// Allows everything (including `test:Panic`) from 203.0.113.0/24, by the public path or through
/// `vpce-1a2b3c4d`; through `vpce-0deny000` the endpoint policy denies (statement 0, `EndpointDeny`).
const BUNDLE: &str = r#"{
  "identity_policies": [{"Version": "2012-10-17", "Statement": [
    {"Sid": "FromCorp", "Effect": "Allow", "Action": "*", "Resource": "*",
     "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}},
    {"Sid": "ViaEndpoint", "Effect": "Allow", "Action": "*", "Resource": "*",
     "Condition": {"StringEquals": {"aws:SourceVpce": ["vpce-1a2b3c4d", "vpce-0deny000"]}}},
    {"Sid": "NoTag", "Effect": "Deny", "Action": "*", "Resource": "*",
     "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blocked"}}}]}],
  "endpoint_policies": {
    "vpce-0deny000": {"Version": "2012-10-17", "Statement": [
      {"Sid": "EndpointDeny", "Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}]}}
}"#;

/// Denies everything: no statement allows.
const EMPTY: &str = "{}";

fn b(s: &str) -> iamgate_bytes {
    iamgate_bytes {
        ptr: s.as_ptr(),
        len: s.len(),
    }
}

const NONE: iamgate_bytes = iamgate_bytes {
    ptr: null(),
    len: 0,
};

fn request(source_ip: &str) -> iamgate_request {
    iamgate_request {
        action: b("sagemaker:CreatePresignedDomainUrl"),
        resource: b("arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123/alice"),
        principal: b("arn:aws:iam::111122223333:role/DataSci"),
        source_ip: b(source_ip),
        source_ip_bytes: NONE,
        vpc_id: NONE,
        vpce_id: NONE,
        vpc_source_ip: NONE,
        vpc_source_ip_bytes: NONE,
        extra: null(),
        extra_len: 0,
    }
}

struct Owned(*mut iamgate_engine);

impl Drop for Owned {
    fn drop(&mut self) {
        // SAFETY: from iamgate_engine_new, freed once.
        unsafe { iamgate_engine_free(self.0) }
    }
}

fn engine(text: &str) -> Owned {
    let mut e = null_mut();
    // SAFETY: valid slices and places.
    let s = unsafe { iamgate_engine_new(text.as_ptr(), text.len(), &mut e, null_mut()) };
    assert_eq!(s, iamgate_status::Ok);
    assert!(!e.is_null());
    Owned(e)
}

fn decide(
    e: *const iamgate_engine,
    r: *const iamgate_request,
) -> (iamgate_decision, iamgate_status) {
    let mut status = iamgate_status::Panic;
    // SAFETY: valid or null pointers, as the test chooses.
    let d = unsafe { iamgate_decide(e, r, &mut status, null_mut()) };
    (d, status)
}

fn c_str(p: *const c_char) -> String {
    // SAFETY: the library returns NUL-terminated strings.
    unsafe { std::ffi::CStr::from_ptr(p) }
        .to_string_lossy()
        .into_owned()
}

fn chars(a: &[c_char]) -> String {
    let bytes: Vec<u8> = a
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn allowed_and_denied_requests_decide() {
    let e = engine(BUNDLE);
    assert_eq!(
        decide(e.0, &request("203.0.113.7")),
        (iamgate_decision::Allow, iamgate_status::Ok)
    );
    assert_eq!(
        decide(e.0, &request("198.51.100.1")),
        (iamgate_decision::ImplicitDeny, iamgate_status::Ok)
    );
}

#[test]
fn bad_bundle_is_an_error_with_its_place_and_no_engine() {
    let text = "{\n  \"scps\": 3\n}";
    let mut e = null_mut();
    let mut err = null_mut();
    // SAFETY: valid slices and places.
    let s = unsafe { iamgate_engine_new(text.as_ptr(), text.len(), &mut e, &mut err) };
    assert_eq!(s, iamgate_status::BadBundle);
    assert!(e.is_null());
    assert!(!err.is_null());
    // SAFETY: a live error.
    unsafe {
        assert_eq!(
            c_str(iamgate_error_message(err)),
            "expected an array, found number"
        );
        assert_eq!(c_str(iamgate_error_path(err)), "$.scps");
        assert_eq!(
            (iamgate_error_line(err), iamgate_error_column(err)),
            (2, 11)
        );
        iamgate_error_free(err);
    }
    // Deciding with the engine that was not made denies.
    assert_eq!(
        decide(e, &request("203.0.113.7")),
        (iamgate_decision::Error, iamgate_status::NullPointer)
    );
}

#[test]
fn bad_reload_keeps_the_last_good_bundle() {
    let e = engine(BUNDLE);
    let text = "{\"identity_policies\": [7]}";
    let mut err = null_mut();
    // SAFETY: valid slices and places.
    let s = unsafe { iamgate_engine_reload(e.0, text.as_ptr(), text.len(), &mut err) };
    assert_eq!(s, iamgate_status::BadBundle);
    assert_eq!(
        c_str(unsafe { iamgate_error_path(err) }),
        "$.identity_policies[0]"
    );
    // SAFETY: a live error.
    unsafe { iamgate_error_free(err) };
    assert_eq!(unsafe { iamgate_engine_generation(e.0) }, 0);
    assert_eq!(
        decide(e.0, &request("203.0.113.7")).0,
        iamgate_decision::Allow
    );
    // A good reload takes effect for the next decision.
    // SAFETY: valid slices.
    let s = unsafe { iamgate_engine_reload(e.0, EMPTY.as_ptr(), EMPTY.len(), null_mut()) };
    assert_eq!(s, iamgate_status::Ok);
    assert_eq!(unsafe { iamgate_engine_generation(e.0) }, 1);
    assert_eq!(
        decide(e.0, &request("203.0.113.7")).0,
        iamgate_decision::ImplicitDeny
    );
}

#[test]
fn null_engine_denies() {
    assert_eq!(
        decide(null(), &request("203.0.113.7")),
        (iamgate_decision::Error, iamgate_status::NullPointer)
    );
}

#[test]
fn null_request_denies() {
    let e = engine(BUNDLE);
    assert_eq!(
        decide(e.0, null()),
        (iamgate_decision::Error, iamgate_status::NullPointer)
    );
}

#[test]
fn null_slice_with_a_length_denies() {
    let e = engine(BUNDLE);
    let r = iamgate_request {
        principal: iamgate_bytes {
            ptr: null(),
            len: 5,
        },
        ..request("203.0.113.7")
    };
    assert_eq!(
        decide(e.0, &r),
        (iamgate_decision::Error, iamgate_status::NullPointer)
    );
    let r = iamgate_request {
        extra_len: 2,
        ..request("203.0.113.7")
    };
    assert_eq!(
        decide(e.0, &r),
        (iamgate_decision::Error, iamgate_status::NullPointer)
    );
}

#[test]
fn null_bundle_or_out_pointer_is_an_error() {
    let mut e = null_mut();
    // SAFETY: null pointers, which the function checks.
    assert_eq!(
        unsafe { iamgate_engine_new(null(), 3, &mut e, null_mut()) },
        iamgate_status::NullPointer
    );
    assert_eq!(
        unsafe { iamgate_engine_new(EMPTY.as_ptr(), EMPTY.len(), null_mut(), null_mut()) },
        iamgate_status::NullPointer
    );
    assert_eq!(
        unsafe { iamgate_engine_reload(null(), EMPTY.as_ptr(), EMPTY.len(), null_mut()) },
        iamgate_status::NullPointer
    );
}

#[test]
fn invalid_utf8_denies() {
    let e = engine(BUNDLE);
    let bad = [b'a', b':', 0xff, 0xfe];
    let r = iamgate_request {
        action: iamgate_bytes {
            ptr: bad.as_ptr(),
            len: bad.len(),
        },
        ..request("203.0.113.7")
    };
    assert_eq!(
        decide(e.0, &r),
        (iamgate_decision::Error, iamgate_status::InvalidUtf8)
    );
    // In an extra key's value too.
    let pair = iamgate_pair {
        key: b("aws:PrincipalTag/team"),
        value: iamgate_bytes {
            ptr: bad.as_ptr(),
            len: bad.len(),
        },
    };
    let r = iamgate_request {
        extra: &pair,
        extra_len: 1,
        ..request("203.0.113.7")
    };
    assert_eq!(
        decide(e.0, &r),
        (iamgate_decision::Error, iamgate_status::InvalidUtf8)
    );
    // And in a bundle.
    let mut out = null_mut();
    // SAFETY: valid slices and places.
    let s = unsafe { iamgate_engine_new(bad.as_ptr(), bad.len(), &mut out, null_mut()) };
    assert_eq!(s, iamgate_status::InvalidUtf8);
}

#[test]
fn missing_action_denies() {
    let e = engine(BUNDLE);
    let r = iamgate_request {
        action: NONE,
        ..request("203.0.113.7")
    };
    assert_eq!(
        decide(e.0, &r),
        (iamgate_decision::Error, iamgate_status::BadRequest)
    );
}

#[test]
fn refused_source_ip_denies() {
    let e = engine(BUNDLE);
    // A range where an address belongs.
    assert_eq!(
        decide(e.0, &request("203.0.113.0/24")),
        (iamgate_decision::Error, iamgate_status::BadRequest)
    );
}

/// An address given as text that is UTF-8 but not ASCII is read as text and refused by its key (a bad
/// request), not taken for invalid UTF-8; in either address field, and with the mapped-IPv4 prefix too.
#[test]
fn non_ascii_address_text_is_a_bad_request() {
    let e = engine(BUNDLE);
    for text in ["203.0.113.٧", "::ffff:203.0.113.٧", "２03.0.113.7"] {
        assert_eq!(
            decide(e.0, &request(text)),
            (iamgate_decision::Error, iamgate_status::BadRequest),
            "{text}"
        );
        let r = iamgate_request {
            vpc_source_ip: b(text),
            ..request("203.0.113.7")
        };
        assert_eq!(
            decide(e.0, &r),
            (iamgate_decision::Error, iamgate_status::BadRequest),
            "{text}"
        );
    }
}

#[test]
fn source_ip_as_text_and_bytes_denies() {
    let e = engine(BUNDLE);
    let ip = [203u8, 0, 113, 7];
    let r = iamgate_request {
        source_ip_bytes: iamgate_bytes {
            ptr: ip.as_ptr(),
            len: 4,
        },
        ..request("203.0.113.7")
    };
    assert_eq!(
        decide(e.0, &r),
        (iamgate_decision::Error, iamgate_status::BadRequest)
    );
}

#[test]
fn source_ip_of_wrong_length_denies() {
    let e = engine(BUNDLE);
    let ip = [203u8, 0, 113];
    let r = iamgate_request {
        source_ip: NONE,
        source_ip_bytes: iamgate_bytes {
            ptr: ip.as_ptr(),
            len: 3,
        },
        ..request("")
    };
    assert_eq!(
        decide(e.0, &r),
        (iamgate_decision::Error, iamgate_status::BadRequest)
    );
}

#[test]
fn source_ip_bytes_decide_as_text_and_mapped_ipv4_is_ipv4() {
    let e = engine(BUNDLE);
    let v4 = [203u8, 0, 113, 7];
    let mut mapped = [0u8; 16];
    mapped[10] = 0xff;
    mapped[11] = 0xff;
    mapped[12..].copy_from_slice(&v4);
    let outside = [198u8, 51, 100, 1];
    for (addr, want) in [
        (&v4[..], iamgate_decision::Allow),
        (&mapped[..], iamgate_decision::Allow),
        (&outside[..], iamgate_decision::ImplicitDeny),
    ] {
        let r = iamgate_request {
            source_ip: NONE,
            source_ip_bytes: iamgate_bytes {
                ptr: addr.as_ptr(),
                len: addr.len(),
            },
            ..request("")
        };
        assert_eq!(decide(e.0, &r), (want, iamgate_status::Ok), "{addr:?}");
    }
    // The same as text.
    assert_eq!(
        decide(e.0, &request("::ffff:203.0.113.7")).0,
        iamgate_decision::Allow
    );
    assert_eq!(
        decide(e.0, &request("::FFFF:203.0.113.7")).0,
        iamgate_decision::Allow
    );
}

#[test]
fn caught_panic_denies() {
    let e = engine(BUNDLE);
    let r = iamgate_request {
        action: b(PANIC_ACTION),
        ..request("203.0.113.7")
    };
    let mut st = iamgate_statement {
        policy: [1; IAMGATE_POLICY_NAME_LEN],
        sid: [1; IAMGATE_SID_LEN],
        sid_truncated: true,
        index: 7,
    };
    let mut status = iamgate_status::Ok;
    // SAFETY: valid pointers.
    let d = unsafe { iamgate_decide(e.0, &r, &mut status, &mut st) };
    assert_eq!(
        (d, status),
        (iamgate_decision::Error, iamgate_status::Panic)
    );
    // The deciding statement was cleared before the panic: nothing stale is reported.
    assert_eq!(chars(&st.policy), "");
    assert_eq!(st.index, -1);
    // The engine still works.
    assert_eq!(
        decide(e.0, &request("203.0.113.7")).0,
        iamgate_decision::Allow
    );
}

#[test]
fn status_is_optional_and_the_decision_alone_fails_closed() {
    let e = engine(BUNDLE);
    // SAFETY: null status and deciding are allowed.
    let d = unsafe { iamgate_decide(e.0, &request("not an address"), null_mut(), null_mut()) };
    assert_eq!(d, iamgate_decision::Error);
}

#[test]
fn deciding_statement_is_named() {
    let e = engine(BUNDLE);
    let mut st = iamgate_statement {
        policy: [0; IAMGATE_POLICY_NAME_LEN],
        sid: [0; IAMGATE_SID_LEN],
        sid_truncated: false,
        index: 0,
    };
    let pair = iamgate_pair {
        key: b("aws:PrincipalTag/team"),
        value: b("blocked"),
    };
    let r = iamgate_request {
        extra: &pair,
        extra_len: 1,
        ..request("203.0.113.7")
    };
    let mut status = iamgate_status::Panic;
    // SAFETY: valid pointers.
    let d = unsafe { iamgate_decide(e.0, &r, &mut status, &mut st) };
    assert_eq!(
        (d, status),
        (iamgate_decision::ExplicitDeny, iamgate_status::Ok)
    );
    assert_eq!(
        (chars(&st.policy), chars(&st.sid), st.index),
        ("identity[0]".into(), "NoTag".into(), 2)
    );

    // Through the listed endpoint whose policy denies.
    let r = iamgate_request {
        source_ip: NONE,
        vpce_id: b("vpce-0deny000"),
        ..request("")
    };
    // SAFETY: valid pointers.
    let d = unsafe { iamgate_decide(e.0, &r, &mut status, &mut st) };
    assert_eq!(d, iamgate_decision::ExplicitDeny);
    assert_eq!(
        (chars(&st.policy), chars(&st.sid), st.index),
        ("endpoint".into(), "EndpointDeny".into(), 0)
    );

    // An implicit deny names the policy type without an Allow.
    // SAFETY: valid pointers.
    let d = unsafe { iamgate_decide(e.0, &request("198.51.100.1"), &mut status, &mut st) };
    assert_eq!(d, iamgate_decision::ImplicitDeny);
    assert_eq!(
        (chars(&st.policy), chars(&st.sid), st.index),
        ("identity".into(), String::new(), -1)
    );

    // An allow names the Allow.
    // SAFETY: valid pointers.
    let d = unsafe { iamgate_decide(e.0, &request("203.0.113.9"), &mut status, &mut st) };
    assert_eq!(d, iamgate_decision::Allow);
    assert_eq!((chars(&st.sid), st.index), ("FromCorp".into(), 0));
}

#[test]
fn long_sid_is_cut_at_a_character_boundary() {
    let mut sid = [0 as c_char; 8];
    assert!(write_c(&mut sid, "abcdefé"));
    assert_eq!(chars(&sid), "abcdef");
    assert!(!write_c(&mut sid, "abc"));
    assert_eq!(chars(&sid), "abc");
}

#[test]
fn many_extra_keys_are_all_read() {
    let e = engine(BUNDLE);
    // 40 keys: past the inline room, the last one decides.
    let keys: Vec<String> = (0..40).map(|i| format!("aws:PrincipalTag/k{i}")).collect();
    let mut pairs: Vec<iamgate_pair> = keys
        .iter()
        .map(|k| iamgate_pair {
            key: b(k),
            value: b("v"),
        })
        .collect();
    pairs.push(iamgate_pair {
        key: b("aws:PrincipalTag/team"),
        value: b("blocked"),
    });
    let r = iamgate_request {
        extra: pairs.as_ptr(),
        extra_len: pairs.len(),
        ..request("203.0.113.7")
    };
    assert_eq!(
        decide(e.0, &r),
        (iamgate_decision::ExplicitDeny, iamgate_status::Ok)
    );
    let r = iamgate_request {
        extra_len: pairs.len() - 1,
        ..r
    };
    assert_eq!(
        decide(e.0, &r),
        (iamgate_decision::Allow, iamgate_status::Ok)
    );
}

#[test]
fn explain_is_json_in_a_library_string() {
    let e = engine(BUNDLE);
    let mut json = null_mut();
    let mut len = 0;
    // SAFETY: valid pointers.
    let s = unsafe { iamgate_explain(e.0, &request("203.0.113.7"), &mut json, &mut len) };
    assert_eq!(s, iamgate_status::Ok);
    let text = c_str(json);
    assert_eq!(text.len(), len);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    assert_eq!(v["decision"], "Allow");
    assert_eq!(v["route"], "public");
    assert_eq!(v["reasons"][0]["sid"], "FromCorp");
    // SAFETY: from iamgate_explain.
    unsafe { iamgate_string_free(json) };

    // A bad request: the status, and JSON that says why.
    // SAFETY: valid pointers.
    let s = unsafe { iamgate_explain(e.0, &request("nope"), &mut json, &mut len) };
    assert_eq!(s, iamgate_status::BadRequest);
    let v: serde_json::Value = serde_json::from_str(&c_str(json)).unwrap_or_default();
    assert_eq!(v["decision"], "Error");
    assert_eq!(v["error"]["status"], "bad-request");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("aws:SourceIp")
    );
    // SAFETY: from iamgate_explain.
    unsafe { iamgate_string_free(json) };

    // Null engine.
    // SAFETY: valid out pointers.
    let s = unsafe { iamgate_explain(null(), &request("203.0.113.7"), &mut json, null_mut()) };
    assert_eq!(s, iamgate_status::NullPointer);
    // SAFETY: from iamgate_explain.
    unsafe { iamgate_string_free(json) };
    // SAFETY: a null out pointer, which the function checks.
    let s = unsafe { iamgate_explain(e.0, &request("203.0.113.7"), null_mut(), null_mut()) };
    assert_eq!(s, iamgate_status::NullPointer);
}

#[test]
fn status_names_cover_any_int() {
    assert_eq!(c_str(iamgate_status_name(4)), "bad-request");
    assert_eq!(c_str(iamgate_status_name(-3)), "unknown");
    assert_eq!(c_str(iamgate_version()), env!("CARGO_PKG_VERSION"));
}

/// Threads decide while another reloads between two bundles: every decision is one of the two bundles'
/// answers (never an error, never a mix). The reloads start once every decider has decided once (a fast
/// reloader could otherwise finish before a decider is first scheduled).
#[test]
fn decisions_run_while_another_thread_reloads() {
    let e = engine(BUNDLE);
    let ptr = e.0 as usize;
    let stop = std::sync::atomic::AtomicBool::new(false);
    let started = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        let reloader = s.spawn(|| {
            while started.load(std::sync::atomic::Ordering::Acquire) < 2 {
                std::thread::yield_now();
            }
            for i in 0..200 {
                let text = if i % 2 == 0 { EMPTY } else { BUNDLE };
                // SAFETY: the engine lives until the scope ends.
                let st = unsafe {
                    iamgate_engine_reload(
                        ptr as *const iamgate_engine,
                        text.as_ptr(),
                        text.len(),
                        null_mut(),
                    )
                };
                assert_eq!(st, iamgate_status::Ok);
            }
            stop.store(true, std::sync::atomic::Ordering::Release);
        });
        let deciders: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    let (mut allow, mut deny) = (0u32, 0u32);
                    let mut first = true;
                    while !stop.load(std::sync::atomic::Ordering::Acquire) {
                        let d = decide(ptr as *const iamgate_engine, &request("203.0.113.7"));
                        if first {
                            first = false;
                            started.fetch_add(1, std::sync::atomic::Ordering::Release);
                        }
                        match d {
                            (iamgate_decision::Allow, iamgate_status::Ok) => allow += 1,
                            (iamgate_decision::ImplicitDeny, iamgate_status::Ok) => deny += 1,
                            other => panic!("unexpected {other:?}"),
                        }
                    }
                    (allow, deny)
                })
            })
            .collect();
        let _ = reloader.join();
        for d in deciders {
            let (allow, deny) = d.join().unwrap_or_default();
            assert!(allow + deny > 0);
        }
    });
    assert_eq!(unsafe { iamgate_engine_generation(e.0) }, 200);
}

/// The hand-written dotted decimal is `Ipv4Addr`'s `Display`, for every octet value in every place.
#[test]
fn ipv4_text_is_dotted_decimal() {
    for o in 0..=255u8 {
        for ip in [
            Ipv4Addr::new(o, 0, 0, 0),
            Ipv4Addr::new(1, o, 10, 100),
            Ipv4Addr::new(255, 99, o, 9),
            Ipv4Addr::new(10, 20, 1, o),
        ] {
            let mut t = AddrText::new();
            assert_eq!(t.ipv4(ip), ip.to_string());
            assert_eq!(t.as_str(), ip.to_string());
        }
    }
}

/// Counts the allocations of the current thread (other test threads do not disturb the count).
struct Counting;

thread_local! {
    static ALLOCATIONS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { std::alloc::System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations(mut f: impl FnMut()) -> usize {
    f();
    let before = ALLOCATIONS.with(|c| c.get());
    for _ in 0..100 {
        f();
    }
    ALLOCATIONS.with(|c| c.get()) - before
}

/// `iamgate_decide` allocates nothing: text or byte addresses, through an endpoint or not, with up to 16 extra
/// pairs beside the network keys (here all four network keys and 16 pairs); past that, one allocation per
/// call; asking for the deciding statement allocates.
#[test]
fn decide_allocates_nothing() {
    let e = engine(BUNDLE);
    let v6 = [0x20u8, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    let tag = iamgate_pair {
        key: b("aws:PrincipalTag/team"),
        value: b("data"),
    };
    let sixteen = [tag; 16];
    let seventeen = [tag; 17];
    let requests = [
        request("203.0.113.7"),
        request("198.51.100.1"),
        iamgate_request {
            source_ip: NONE,
            source_ip_bytes: iamgate_bytes {
                ptr: v6.as_ptr(),
                len: 16,
            },
            ..request("")
        },
        iamgate_request {
            source_ip: NONE,
            vpce_id: b("vpce-0deny000"),
            vpc_id: b("vpc-1"),
            vpc_source_ip: b("10.0.0.1"),
            ..request("")
        },
        iamgate_request {
            extra: sixteen.as_ptr(),
            extra_len: sixteen.len(),
            vpce_id: b("vpce-1a2b3c4d"),
            vpc_id: b("vpc-1"),
            vpc_source_ip: b("10.0.0.1"),
            ..request("203.0.113.7")
        },
    ];
    for r in &requests {
        assert_eq!(
            allocations(|| {
                let _ = decide(e.0, r);
            }),
            0,
            "{r:?}"
        );
        assert_eq!(decide(e.0, r).1, iamgate_status::Ok);
    }
    let spilled = iamgate_request {
        extra: seventeen.as_ptr(),
        extra_len: seventeen.len(),
        ..request("203.0.113.7")
    };
    assert_eq!(
        allocations(|| {
            let _ = decide(e.0, &spilled);
        }),
        100
    );
    let mut st = iamgate_statement {
        policy: [0; IAMGATE_POLICY_NAME_LEN],
        sid: [0; IAMGATE_SID_LEN],
        sid_truncated: false,
        index: 0,
    };
    let with_statement = allocations(|| {
        // SAFETY: valid pointers.
        let _ = unsafe { iamgate_decide(e.0, &requests[0], null_mut(), &mut st) };
    });
    assert!(with_statement > 0);
}

/// The word-at-a-time ASCII check agrees with std's on every length up to 140 (under 4, 4 to 7, 8 to 15, 16
/// to 32, and past 32: one to four 32-byte blocks and the overlapping last 32 bytes) with a high byte
/// anywhere.
#[test]
fn ascii_check_agrees_with_std() {
    fn gathered<G: Gather>(texts: &[&[u8]]) -> bool {
        let mut g = G::default();
        for t in texts {
            g.add(t);
        }
        g.ascii()
    }
    let ascii = |s: &[u8]| {
        let (words, ascii) = (gathered::<Words>(&[s]), gathered::<Ascii>(&[s]));
        // Among other texts, before and after them.
        let among = [
            b"short".as_slice(),
            b"a text of more than 32 bytes, all ascii",
        ];
        let mut texts = among.to_vec();
        texts.insert(1, s);
        assert_eq!(gathered::<Ascii>(&texts), ascii);
        assert_eq!(gathered::<Words>(&texts), words);
        assert_eq!(words, ascii);
        words
    };
    for len in 0..140 {
        let mut v = vec![b'a'; len];
        assert!(ascii(&v));
        for i in 0..len {
            v[i] = 0x80 | (i as u8);
            assert_eq!(ascii(&v), v.is_ascii());
            assert!(!ascii(&v), "{len} {i}");
            v[i] = b'a';
        }
    }
}

/// The fields are checked for UTF-8 all at once: a bad byte in any one of them (at its start, middle or end,
/// in a short or a long field) still fails the call closed.
#[test]
fn invalid_utf8_in_any_field_denies() {
    let e = engine(BUNDLE);
    let good = request("203.0.113.7");
    assert_eq!(decide(e.0, &good).0, iamgate_decision::Allow);
    let texts: [&[u8]; 4] = [
        b"ab\xffcd",
        b"\xc3",
        b"arn:aws:iam::111122223333:role/Data\xe2\x82",
        b"\x80vpce-1a2b3c4d-and-some-more-bytes-to-be-long",
    ];
    for bad in texts {
        let s = iamgate_bytes {
            ptr: bad.as_ptr(),
            len: bad.len(),
        };
        let pair_key = [iamgate_pair {
            key: s,
            value: b("v"),
        }];
        let pair_value = [iamgate_pair {
            key: b("aws:PrincipalTag/team"),
            value: s,
        }];
        let cases = [
            ("action", iamgate_request { action: s, ..good }),
            (
                "resource",
                iamgate_request {
                    resource: s,
                    ..good
                },
            ),
            (
                "principal",
                iamgate_request {
                    principal: s,
                    ..good
                },
            ),
            ("vpc_id", iamgate_request { vpc_id: s, ..good }),
            ("vpce_id", iamgate_request { vpce_id: s, ..good }),
            (
                "source_ip",
                iamgate_request {
                    source_ip: s,
                    ..good
                },
            ),
            (
                "vpc_source_ip",
                iamgate_request {
                    vpc_source_ip: s,
                    ..good
                },
            ),
            (
                "extra key",
                iamgate_request {
                    extra: pair_key.as_ptr(),
                    extra_len: 1,
                    ..good
                },
            ),
            (
                "extra value",
                iamgate_request {
                    extra: pair_value.as_ptr(),
                    extra_len: 1,
                    ..good
                },
            ),
        ];
        for (field, r) in cases {
            assert_eq!(
                decide(e.0, &r),
                (iamgate_decision::Error, iamgate_status::InvalidUtf8),
                "{field} {bad:?}"
            );
        }
    }
}

/// UTF-8 that is not ASCII passes the check and is read as text: a tag value `blocké` does not match the
/// `blocked` deny, `blocked` does, and a non-ASCII resource is decided, not refused.
#[test]
fn non_ascii_utf8_is_read() {
    let e = engine(BUNDLE);
    let tag = |v: &'static str| {
        [iamgate_pair {
            key: b("aws:PrincipalTag/team"),
            value: b(v),
        }]
    };
    let (near, exact) = (tag("blocké"), tag("blocked"));
    let with = |p: &[iamgate_pair; 1]| iamgate_request {
        extra: p.as_ptr(),
        extra_len: 1,
        ..request("203.0.113.7")
    };
    assert_eq!(
        decide(e.0, &with(&near)),
        (iamgate_decision::Allow, iamgate_status::Ok)
    );
    assert_eq!(
        decide(e.0, &with(&exact)),
        (iamgate_decision::ExplicitDeny, iamgate_status::Ok)
    );
    let r = iamgate_request {
        resource: b("arn:aws:s3:::bücket/ключ"),
        action: b("s3:GetObject"),
        ..request("203.0.113.7")
    };
    assert_eq!(
        decide(e.0, &r),
        (iamgate_decision::Allow, iamgate_status::Ok)
    );
}

/// An extra pair without a key is a bad request, whatever its value.
#[test]
fn extra_pair_without_a_key_denies() {
    let e = engine(BUNDLE);
    let pair = [iamgate_pair {
        key: NONE,
        value: b("x"),
    }];
    let r = iamgate_request {
        extra: pair.as_ptr(),
        extra_len: 1,
        ..request("203.0.113.7")
    };
    assert_eq!(
        decide(e.0, &r),
        (iamgate_decision::Error, iamgate_status::BadRequest)
    );
}

/// The endpoint routes the request whether given as its field or as an extra pair; an extra pair naming
/// `aws:SourceVpce` (in any case) takes precedence over the field, as a key given twice takes its last value,
/// for the route as for the conditions.
#[test]
fn capi5_endpoint_route_by_field_or_extra_pair() {
    let e = engine(BUNDLE);
    let through = |field: &str, extra: &[iamgate_pair]| {
        let r = iamgate_request {
            source_ip: NONE,
            vpce_id: if field.is_empty() { NONE } else { b(field) },
            vpc_source_ip: b("10.0.0.1"),
            extra: if extra.is_empty() {
                null()
            } else {
                extra.as_ptr()
            },
            extra_len: extra.len(),
            ..request("")
        };
        decide(e.0, &r)
    };
    let pair = |k: &'static str, v: &'static str| iamgate_pair {
        key: b(k),
        value: b(v),
    };
    let allow = (iamgate_decision::Allow, iamgate_status::Ok);
    let deny = (iamgate_decision::ExplicitDeny, iamgate_status::Ok);
    assert_eq!(through("vpce-1a2b3c4d", &[]), allow);
    assert_eq!(through("vpce-0deny000", &[]), deny);
    let tag = pair("aws:PrincipalTag/team", "data");
    assert_eq!(through("vpce-0deny000", &[tag]), deny);
    for key in ["aws:SourceVpce", "AWS:SOURCEVPCE"] {
        assert_eq!(
            through("vpce-1a2b3c4d", &[pair(key, "vpce-0deny000")]),
            deny,
            "{key}"
        );
        assert_eq!(
            through("vpce-0deny000", &[tag, pair(key, "vpce-1a2b3c4d")]),
            allow,
            "{key}"
        );
        assert_eq!(through("", &[pair(key, "vpce-0deny000")]), deny, "{key}");
    }
}

/// The text of an address given as 4 bytes is written in place, its longest (15 bytes, the last octet's word
/// ending at byte 16) and shortest forms as `Display` writes them.
#[test]
fn capi6_ipv4_written_in_place_as_display() {
    for ip in [
        Ipv4Addr::new(255, 255, 255, 255),
        Ipv4Addr::new(0, 0, 0, 0),
        Ipv4Addr::new(100, 9, 255, 10),
        Ipv4Addr::new(9, 99, 199, 0),
    ] {
        let mut out = MaybeUninit::uninit();
        assert_eq!(AddrText::ipv4_into(&mut out, ip), ip.to_string());
    }
}

/// The last inline slot (all four network keys and 16 extra pairs) is written and read: the 16th pair decides.
#[test]
fn capi6_last_inline_entry_decides() {
    let e = engine(BUNDLE);
    let tag = iamgate_pair {
        key: b("aws:PrincipalTag/other"),
        value: b("data"),
    };
    let mut pairs = [tag; 16];
    let fields = |pairs: &[iamgate_pair]| iamgate_request {
        extra: pairs.as_ptr(),
        extra_len: pairs.len(),
        vpce_id: b("vpce-1a2b3c4d"),
        vpc_id: b("vpc-1"),
        vpc_source_ip: b("10.0.0.1"),
        ..request("203.0.113.7")
    };
    let without = decide(e.0, &fields(&pairs));
    assert_eq!(without, (iamgate_decision::Allow, iamgate_status::Ok));
    if let Some(last) = pairs.last_mut() {
        *last = iamgate_pair {
            key: b("aws:PrincipalTag/team"),
            value: b("blocked"),
        };
    }
    assert_eq!(
        decide(e.0, &fields(&pairs)),
        (iamgate_decision::ExplicitDeny, iamgate_status::Ok)
    );
}
