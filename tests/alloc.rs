//! `PolicySet::decide` allocates nothing: counted with a global allocator over every case of the corpus.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "support/cases.rs"]
mod cases;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        COUNT.with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        COUNT.with(|c| c.set(c.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = COUNT.with(Cell::get);
    let out = f();
    (out, COUNT.with(Cell::get) - before)
}

#[test]
fn decide_allocates_nothing_on_any_corpus_case() {
    for (p, case) in cases::corpus_cases() {
        // A case's set is built lazily: its second decision builds the action index, once.
        let _ = case.set.decide(&case.request);
        let _ = case.set.decide(&case.request);
        let (decision, n) = allocations(|| case.set.decide(&case.request));
        assert_eq!(
            n,
            0,
            "{} allocated {n} times deciding {decision}",
            p.display()
        );
        // The counter works: explaining does allocate.
        let (_, m) = allocations(|| case.set.explain(&case.request));
        assert!(m > 0);
    }
}

#[test]
fn decide_ref_allocates_nothing_on_any_corpus_case() {
    for (p, case) in cases::corpus_cases() {
        let req = &case.request;
        // As above: the second decision of a lazily built set builds its index.
        let want = case.set.decide(req);
        let _ = case.set.decide(req);
        let (got, n) = cases::with_ref(req, |_| false, |r| allocations(|| case.set.decide_ref(r)));
        assert_eq!(got, Ok(want), "{}", p.display());
        assert_eq!(n, 0, "{} allocated {n} times", p.display());
    }
}

#[test]
fn only_a_lazy_sets_second_decision_allocates() {
    for (p, case) in cases::corpus_cases() {
        let req = &case.request;
        // The same policies, shared, in a set built eagerly: not one decision allocates.
        let eager = case.set.edit().build().unwrap();
        for _ in 0..3 {
            let (_, n) = allocations(|| eager.decide(req));
            assert_eq!(n, 0, "{}", p.display());
        }
        let lazy = case.set.edit().build_lazy().unwrap();
        let (first, n) = allocations(|| lazy.decide(req));
        assert_eq!(n, 0, "{}", p.display());
        let _ = lazy.decide(req);
        let (third, n) = allocations(|| lazy.decide(req));
        assert_eq!(n, 0, "{}", p.display());
        assert_eq!((first, third), (eager.decide(req), eager.decide(req)));
    }
}
