//! The C ABI's cost over the Rust decide, on the typical Studio bundle (`corpus/bench/bundle.json`, the bundle
//! of `benches/` in one file), for the allowed call through the API endpoint and the public call denied by the
//! OU SCP:
//!
//! - `rust/...`: `CompiledBundle::decide_ref` (routing by `aws:SourceVpce`, keys laid out) on a `RequestRef`;
//! - `rust-set/...`: `PolicySet::decide_ref_with` on the endpoint's set directly (no routing), as `benches/decide`;
//! - `capi/...`: `iamgate_decide` on an `iamgate_request` (the call a C program makes: arc-swap load, UTF-8
//!   checks, the source IP given as 4 bytes, routing, decide);
//! - `threads/N`: N threads each making the same number of `iamgate_decide` calls on one engine; a time per
//!   batch that stays flat from 1 to 2 threads means decisions scale across the cores.

use criterion::{Criterion, criterion_group, criterion_main};
use iamgate::bundle::Bundle;
use iamgate::{Decision, Limits, RequestRef, ValueRef};
use iamgate_capi::{
    iamgate_bytes, iamgate_decide, iamgate_decision, iamgate_engine, iamgate_engine_free,
    iamgate_engine_new, iamgate_pair, iamgate_request, iamgate_status,
};
use std::hint::black_box;
use std::ptr::{null, null_mut};
use std::time::{Duration, Instant};

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

fn fail(what: &str) -> ! {
    eprintln!("bench setup failed: {what}");
    std::process::exit(1)
}

struct Engine(*mut iamgate_engine);
// SAFETY: the engine is Send + Sync by its contract (iamgate_decide may be called from any thread).
unsafe impl Send for Engine {}
// SAFETY: as above.
unsafe impl Sync for Engine {}

impl Drop for Engine {
    fn drop(&mut self) {
        // SAFETY: from iamgate_engine_new, freed once.
        unsafe { iamgate_engine_free(self.0) }
    }
}

/// A request shared by the threads of `threads/N`.
struct SharedRequest(iamgate_request);
// SAFETY: its slices point to data that lives, unchanged, for the whole bench, and is only read.
unsafe impl Sync for SharedRequest {}

impl SharedRequest {
    fn get(&self) -> &iamgate_request {
        &self.0
    }
}

fn decide_c(engine: &Engine, req: &iamgate_request) -> iamgate_decision {
    let mut status = iamgate_status::Ok;
    // SAFETY: a live engine and a request whose slices outlive the call.
    unsafe { iamgate_decide(engine.0, req, &mut status, null_mut()) }
}

/// The Rust decide and the C ABI decide timed in alternating short rounds (the machine's load drifts between
/// criterion's benches, less within a pair of rounds): the 10th percentile (the least disturbed rounds) and the
/// median over the rounds of each, and of the per-round differences.
fn interleaved(name: &str, rust: &dyn Fn() -> bool, capi: &dyn Fn() -> bool) {
    const ROUNDS: usize = 401;
    const CALLS: u32 = 2_000;
    let time = |f: &dyn Fn() -> bool| {
        let start = Instant::now();
        for _ in 0..CALLS {
            black_box(f());
        }
        start.elapsed().as_nanos() as f64 / f64::from(CALLS)
    };
    let (mut r, mut c, mut d) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let a = time(rust);
        let b = time(capi);
        r.push(a);
        c.push(b);
        d.push(b - a);
    }
    let at = |v: &mut Vec<f64>, q: usize| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() * q / 100).copied().unwrap_or(f64::NAN)
    };
    for q in [10, 50] {
        println!(
            "interleaved {name}, p{q} of {ROUNDS} rounds of {CALLS} calls: rust {:.1} ns, capi {:.1} ns, capi - rust {:.1} ns",
            at(&mut r, q),
            at(&mut c, q),
            at(&mut d, q)
        );
    }
}

/// This thread's time on a CPU so far, in ns (Linux: the first field of `/proc/thread-self/schedstat`).
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// Whether decisions scale across cores, on a machine other processes share: N threads decide at once on one
/// engine, and each measures its own CPU time per decision. Threads that do not contend (no lock, no cache line
/// written by all) spend the same CPU time per decision with 2 threads as with 1, however busy the machine;
/// wall time would mostly measure the other processes. Medians of 7 runs of 200,000 decisions per thread.
fn scaling(engine: &Engine, req: &SharedRequest) {
    const CALLS: u32 = 200_000;
    let mut per_thread = Vec::new();
    for threads in [1usize, 2] {
        let mut runs = Vec::new();
        for _ in 0..7 {
            let wall = Instant::now();
            let cpu: Vec<f64> = std::thread::scope(|s| {
                let hs: Vec<_> = (0..threads)
                    .map(|_| {
                        s.spawn(|| {
                            let before = thread_cpu_ns()?;
                            for _ in 0..CALLS {
                                black_box(decide_c(engine, black_box(req.get())));
                            }
                            let after = thread_cpu_ns()?;
                            Some((after - before) as f64 / f64::from(CALLS))
                        })
                    })
                    .collect();
                hs.into_iter()
                    .filter_map(|h| h.join().ok().flatten())
                    .collect()
            });
            let wall = wall.elapsed().as_nanos() as f64 / f64::from(CALLS);
            let mean = cpu.iter().sum::<f64>() / cpu.len().max(1) as f64;
            runs.push((mean, wall));
        }
        runs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (cpu, wall) = runs
            .get(runs.len() / 2)
            .copied()
            .unwrap_or((f64::NAN, f64::NAN));
        println!(
            "scaling, {threads} thread(s): {cpu:.1} ns of CPU per decision per thread; wall {wall:.1} ns per decision per thread"
        );
        per_thread.push(cpu);
    }
    if let [one, two] = per_thread[..] {
        println!(
            "scaling: CPU per decision with 2 threads / with 1: {:.2}",
            two / one
        );
    }
}

fn bench(c: &mut Criterion) {
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
    let engine = Engine(raw);

    // The requests of benches/common: keys in the order of iamgate::bundle::NETWORK_KEYS, then the extra.
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
    let via = rust_req(&via_ctx);
    let public = rust_req(&public_ctx);

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
    let c_public_text = iamgate_request {
        source_ip: bytes("165.225.10.1"),
        ..base
    };

    let ok = compiled.decide_ref(&via) == Ok(Decision::Allow)
        && compiled.decide_ref(&public) == Ok(Decision::ExplicitDeny)
        && decide_c(&engine, &c_via) == iamgate_decision::Allow
        && decide_c(&engine, &c_public) == iamgate_decision::ExplicitDeny
        && decide_c(&engine, &c_public_text) == iamgate_decision::ExplicitDeny;
    if !ok {
        fail("the requests do not decide as expected");
    }
    let (via_set, _) = compiled.set_for(Some("vpce-0api0000000000001"));
    let (public_set, _) = compiled.set_for(None);
    let via_layout = via_set.key_layout(iamgate::bundle::NETWORK_KEYS);
    let public_layout = public_set.key_layout(iamgate::bundle::NETWORK_KEYS);

    interleaved(
        "via-endpoint-allow",
        &|| compiled.decide_ref(black_box(&via)).is_ok(),
        &|| decide_c(&engine, black_box(&c_via)) == iamgate_decision::Allow,
    );
    // The safe engine (arc-swap load, then the same decide): the share of the hot-reload pointer.
    let safe = iamgate_capi::Engine::new(&text).unwrap_or_else(|e| fail(&e.to_string()));
    interleaved(
        "via-endpoint-allow, Engine::decide as capi",
        &|| compiled.decide_ref(black_box(&via)).is_ok(),
        &|| safe.decide(black_box(&via)).is_ok(),
    );
    interleaved(
        "public-deny",
        &|| compiled.decide_ref(black_box(&public)).is_ok(),
        &|| decide_c(&engine, black_box(&c_public)) == iamgate_decision::ExplicitDeny,
    );

    let mut g = c.benchmark_group("capi");
    g.bench_function("rust-set/via-endpoint-allow", |b| {
        b.iter(|| via_set.decide_ref_with(&via_layout, black_box(&via)))
    });
    g.bench_function("rust/via-endpoint-allow", |b| {
        b.iter(|| compiled.decide_ref(black_box(&via)))
    });
    g.bench_function("capi/via-endpoint-allow", |b| {
        b.iter(|| decide_c(&engine, black_box(&c_via)))
    });
    g.bench_function("rust-set/public-deny", |b| {
        b.iter(|| public_set.decide_ref_with(&public_layout, black_box(&public)))
    });
    g.bench_function("rust/public-deny", |b| {
        b.iter(|| compiled.decide_ref(black_box(&public)))
    });
    g.bench_function("capi/public-deny", |b| {
        b.iter(|| decide_c(&engine, black_box(&c_public)))
    });
    g.bench_function("capi/public-deny-ip-text", |b| {
        b.iter(|| decide_c(&engine, black_box(&c_public_text)))
    });
    let shared = SharedRequest(c_via);
    scaling(&engine, &shared);
    for threads in [1usize, 2] {
        g.bench_function(format!("threads/{threads}"), |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                std::thread::scope(|s| {
                    for _ in 0..threads {
                        s.spawn(|| {
                            for _ in 0..iters {
                                black_box(decide_c(&engine, black_box(shared.get())));
                            }
                        });
                    }
                });
                start.elapsed()
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
