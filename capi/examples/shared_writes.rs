//! Which cache lines two deciding threads both write (benches/README.md, "The C ABI and the proxy"): a check
//! for the writes that would make decisions contend across cores, independent of the machine's load.
//!
//! Thread A makes `N` decisions, then waits; thread B, started once A is done (so that B cannot reuse what A
//! released, such as its hazard slot for reading the bundle), makes `N` decisions on the same engine and
//! request. Before and after each loop the thread stores to `MARK` (its address is printed first). Run under
//! `valgrind --tool=lackey --trace-mem=yes`, the stores between the marks are each thread's; a line written by
//! both is a line the threads would pass between cores on every decision. `examples/shared_writes.sh` runs it
//! and lists those lines. `MODE`: `rust` (`CompiledBundle::decide_ref` on one shared bundle), `engine`
//! (`Engine::decide`), `capi` (`iamgate_decide`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../benches/common/mod.rs"]
mod common;

use common::{Setup, decide_c};
use iamgate_capi::iamgate_decision;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Barrier, mpsc};

/// Stored to at each loop's start (1: A, 3: B) and end (2: A, 4: B).
static MARK: AtomicU64 = AtomicU64::new(0);

fn main() {
    let n: usize = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let mode = std::env::var("MODE").unwrap_or_else(|_| "capi".into());
    let s = Setup::new();
    let safe = iamgate_capi::Engine::new(&s.text).unwrap();
    let decide = || match mode.as_str() {
        "rust" => s.compiled.decide_ref(black_box(&s.via.rust)) == Ok(s.via.want),
        "engine" => safe.decide(black_box(&s.via.rust)) == Ok(s.via.want),
        "capi" => decide_c(&s.engine, black_box(&s.via.c)) == iamgate_decision::Allow,
        _ => panic!("MODE `{mode}`: rust, engine or capi"),
    };
    eprintln!("MARK at {:#x}", std::ptr::addr_of!(MARK) as usize);
    let run = |first: u64| {
        MARK.store(first, Ordering::SeqCst);
        let right = (0..n).filter(|_| decide()).count();
        MARK.store(first + 1, Ordering::SeqCst);
        assert_eq!(right, n, "every decision as expected");
    };
    let (a_done, b_wait) = mpsc::channel();
    let end = Barrier::new(2);
    std::thread::scope(|sc| {
        sc.spawn(|| {
            run(1);
            a_done.send(()).unwrap();
            end.wait();
        });
        b_wait.recv().unwrap();
        sc.spawn(|| {
            run(3);
            end.wait();
        });
    });
}
