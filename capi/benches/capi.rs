//! The C ABI's cost over the Rust decide, on the typical Studio bundle (`corpus/bench/bundle.json`, the bundle
//! of `benches/` in one file), for the allowed call through the API endpoint and the public call denied by the
//! OU SCP (the set-up is `common/mod.rs`, shared with `examples/capi_ir.rs`):
//!
//! - `rust/...`: `CompiledBundle::decide_ref` (routing by `aws:SourceVpce`, keys laid out) on a `RequestRef`;
//! - `rust-set/...`: `PolicySet::decide_ref_with` on the endpoint's set directly (no routing), as `benches/decide`;
//! - `capi/...`: `iamgate_decide` on an `iamgate_request` (the call a C program makes: the bundle read through
//!   a hazard slot, UTF-8 checks, the source IP given as 4 bytes, routing by the endpoint field, decide);
//! - `threads/N`: N threads each making the same number of `iamgate_decide` calls on one engine; a time per
//!   batch that stays flat from 1 to 2 threads means decisions scale across the cores.
//!
//! Before criterion's benches it prints the interleaved comparison and the scaling figures (`scaling ...`: the
//! Rust decide on one shared `CompiledBundle`, `Engine::decide` on one shared engine, and `iamgate_decide`).
//! `CAPI_BENCH=scaling` or `CAPI_BENCH=interleaved` prints only that part and skips criterion's benches.

mod common;

use common::{CRequest, Setup, decide_c};
use criterion::{Criterion, criterion_group, criterion_main};
use iamgate::bundle::Bundle;
use iamgate::{Limits, RequestRef, ValueRef};
use iamgate_capi::iamgate_decision;
use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

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

/// The machine's load average over the last minute (`/proc/loadavg`), printed with each scaling figure: on a
/// busy machine the threads do not run at once and the 2-thread figure says little.
fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

/// Decisions per thread in a scaling run.
const SCALING_CALLS: u32 = 200_000;

/// CPU time per call of `decide` over `CALLS` calls on this thread, once every thread of the run is ready;
/// `None` when a call decided wrongly or the CPU time could not be read.
fn timed(barrier: &Barrier, mut decide: impl FnMut() -> bool) -> Option<f64> {
    const CALLS: u32 = SCALING_CALLS;
    barrier.wait();
    let before = thread_cpu_ns()?;
    let mut right = 0u32;
    for _ in 0..CALLS {
        right += u32::from(black_box(decide()));
    }
    let after = thread_cpu_ns()?;
    (right == CALLS).then(|| (after - before) as f64 / f64::from(CALLS))
}

/// What a scaling thread runs: its set-up, then [`timed`].
type Run<'a> = dyn Fn(&Barrier) -> Option<f64> + Sync + 'a;

/// One run: `threads` threads decide at once with `run`; each thread's CPU time per decision, averaged, and the
/// wall time per decision per thread.
fn run_once(threads: usize, run: &Run<'_>) -> (f64, f64) {
    let barrier = Barrier::new(threads);
    let wall = Instant::now();
    let cpu: Vec<f64> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads).map(|_| s.spawn(|| run(&barrier))).collect();
        hs.into_iter()
            .filter_map(|h| h.join().ok().flatten())
            .collect()
    });
    if cpu.len() != threads {
        common::fail("a scaling thread decided wrongly or could not read its CPU time");
    }
    let wall = wall.elapsed().as_nanos() as f64 / f64::from(SCALING_CALLS);
    (cpu.iter().sum::<f64>() / cpu.len().max(1) as f64, wall)
}

/// Whether decisions scale across cores: N threads decide at once, and each measures its own CPU time per
/// decision. Threads that do not contend (no lock, no cache line that they all write) spend the same CPU time
/// per decision with 2 threads as with 1; a line written by both moves between the cores on every write and
/// shows as more CPU per decision. Each variant (`name`, `run`: set up what the thread decides with, then
/// [`timed`]) runs rounds of 200,000 decisions per thread with 1 and with 2 threads; the variants take turns
/// within a round, so that they see the same machine (on this VM two threads can slow each other with no data
/// shared: the first variant, which shares nothing, is the control).
///
/// A 2-thread run counts only if its threads ran at once: wall time per decision per thread within 15% of the
/// CPU time (on a busy machine they take turns, wall about twice the CPU time, and contention cannot show).
/// Medians over the rounds (1 thread) and over the 2-thread runs that ran at once, and how many did.
fn scaling(variants: &[(&str, &Run<'_>)]) {
    const ROUNDS: usize = 9;
    let mut runs = vec![[Vec::new(), Vec::new()]; variants.len()];
    for _ in 0..ROUNDS {
        for ((_, run), r) in variants.iter().zip(runs.iter_mut()) {
            for (threads, r) in [1, 2].into_iter().zip(r.iter_mut()) {
                r.push(run_once(threads, *run));
            }
        }
    }
    let median = |v: &mut Vec<(f64, f64)>| {
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        v.get(v.len() / 2).copied().unwrap_or((f64::NAN, f64::NAN))
    };
    let load = load();
    for ((name, _), [one, two]) in variants.iter().zip(runs.iter_mut()) {
        let (c1, w1) = median(one);
        let mut at_once: Vec<(f64, f64)> = two
            .iter()
            .copied()
            .filter(|&(c, w)| w <= c * 1.15)
            .collect();
        let n = at_once.len();
        if n == 0 {
            println!(
                "scaling {name}: CPU per decision per thread, 1 thread {c1:.1} ns (wall {w1:.1}); no 2-thread run of {ROUNDS} ran at once (load {load}: try a quiet machine, or `chrt -f 10`)"
            );
            continue;
        }
        let (c2, w2) = median(&mut at_once);
        println!(
            "scaling {name}: CPU per decision per thread, 1 thread {c1:.1} ns (wall {w1:.1}), 2 threads at once {c2:.1} ns (wall {w2:.1}; {n} of {ROUNDS} runs ran at once), ratio {:.2} (load {load})",
            c2 / c1
        );
    }
}

/// The scaling variants, from nothing shared to the C ABI: each thread with its own compiled bundle and its own
/// copy of the request's text (the control: no data shared at all), the Rust decide on one shared
/// `CompiledBundle`, `Engine::decide` on one shared engine (adds the hazard slot's read), `iamgate_decide` (adds the C
/// request).
fn scaling_all(s: &Setup, safe: &iamgate_capi::Engine) {
    let want = s.via.want;
    let private = |barrier: &Barrier| {
        let compiled = Bundle::parse(&s.text, &Limits::default())
            .and_then(|b| b.compile())
            .ok()?;
        let owned: Vec<(String, String)> = common::VIA_CTX
            .iter()
            .filter_map(|(k, v)| match v {
                ValueRef::One(v) => Some(((*k).to_owned(), (*v).to_owned())),
                ValueRef::Many(_) => None,
            })
            .collect();
        let ctx: Vec<(&str, ValueRef<'_>)> = owned
            .iter()
            .map(|(k, v)| (k.as_str(), ValueRef::One(v.as_str())))
            .collect();
        let (action, resource, principal) = (
            common::ACTION.to_owned(),
            common::RESOURCE.to_owned(),
            common::PRINCIPAL.to_owned(),
        );
        let req = RequestRef {
            principal: Some(&principal),
            action: &action,
            resource: &resource,
            resource_account: None,
            context: &ctx,
        };
        timed(barrier, || compiled.decide_ref(black_box(&req)) == Ok(want))
    };
    let shared = |barrier: &Barrier| {
        timed(barrier, || {
            s.compiled.decide_ref(black_box(&s.via.rust)) == Ok(want)
        })
    };
    let engine =
        |barrier: &Barrier| timed(barrier, || safe.decide(black_box(&s.via.rust)) == Ok(want));
    let c_via: &CRequest = &s.via.c;
    let capi = |barrier: &Barrier| {
        timed(barrier, || {
            decide_c(&s.engine, black_box(c_via)) == iamgate_decision::Allow
        })
    };
    scaling(&[
        ("private bundle (control)", &private),
        ("rust decide_ref", &shared),
        ("Engine::decide", &engine),
        ("iamgate_decide", &capi),
    ]);
}

fn bench(c: &mut Criterion) {
    let s = Setup::new();
    let part = std::env::var("CAPI_BENCH").unwrap_or_default();
    let (via, public) = (&s.via, &s.public);
    let (compiled, engine) = (&s.compiled, &s.engine);
    // The safe engine (the hazard slot's read, then the same decide): the share of the hot-reload pointer.
    let safe = iamgate_capi::Engine::new(&s.text).unwrap_or_else(|e| common::fail(&e.to_string()));

    if part.is_empty() || part == "interleaved" {
        interleaved(
            "via-endpoint-allow",
            &|| compiled.decide_ref(black_box(&via.rust)).is_ok(),
            &|| decide_c(engine, black_box(&via.c)) == iamgate_decision::Allow,
        );
        interleaved(
            "via-endpoint-allow, Engine::decide as capi",
            &|| compiled.decide_ref(black_box(&via.rust)).is_ok(),
            &|| safe.decide(black_box(&via.rust)).is_ok(),
        );
        interleaved(
            "public-deny",
            &|| compiled.decide_ref(black_box(&public.rust)).is_ok(),
            &|| decide_c(engine, black_box(&public.c)) == iamgate_decision::ExplicitDeny,
        );
        // The C ABI routes by its request's endpoint field (`decide_ref_routed`); the Rust decide given its
        // endpoint apart in the same way, for the like-for-like gap.
        interleaved(
            "via-endpoint-allow, Rust decide_ref_routed as rust",
            &|| {
                compiled
                    .decide_ref_routed(Some("vpce-0api0000000000001"), black_box(&via.rust))
                    .is_ok()
            },
            &|| decide_c(engine, black_box(&via.c)) == iamgate_decision::Allow,
        );
        interleaved(
            "public-deny, Rust decide_ref_routed as rust",
            &|| {
                compiled
                    .decide_ref_routed(None, black_box(&public.rust))
                    .is_ok()
            },
            &|| decide_c(engine, black_box(&public.c)) == iamgate_decision::ExplicitDeny,
        );
    }
    if part.is_empty() || part == "scaling" {
        scaling_all(&s, &safe);
    }
    if !part.is_empty() {
        return;
    }

    let (via_set, _) = compiled.set_for(Some("vpce-0api0000000000001"));
    let (public_set, _) = compiled.set_for(None);
    let via_layout = via_set.key_layout(iamgate::bundle::NETWORK_KEYS);
    let public_layout = public_set.key_layout(iamgate::bundle::NETWORK_KEYS);
    let mut g = c.benchmark_group("capi");
    g.bench_function("rust-set/via-endpoint-allow", |b| {
        b.iter(|| via_set.decide_ref_with(&via_layout, black_box(&via.rust)))
    });
    g.bench_function("rust/via-endpoint-allow", |b| {
        b.iter(|| compiled.decide_ref(black_box(&via.rust)))
    });
    g.bench_function("capi/via-endpoint-allow", |b| {
        b.iter(|| decide_c(engine, black_box(&via.c)))
    });
    g.bench_function("rust-set/public-deny", |b| {
        b.iter(|| public_set.decide_ref_with(&public_layout, black_box(&public.rust)))
    });
    g.bench_function("rust/public-deny", |b| {
        b.iter(|| compiled.decide_ref(black_box(&public.rust)))
    });
    g.bench_function("capi/public-deny", |b| {
        b.iter(|| decide_c(engine, black_box(&public.c)))
    });
    g.bench_function("capi/public-deny-ip-text", |b| {
        b.iter(|| decide_c(engine, black_box(&s.public_text)))
    });
    for threads in [1usize, 2] {
        g.bench_function(format!("threads/{threads}"), |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                std::thread::scope(|sc| {
                    for _ in 0..threads {
                        sc.spawn(|| {
                            for _ in 0..iters {
                                black_box(decide_c(engine, black_box(&via.c)));
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
