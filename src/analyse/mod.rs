//! Exact analyses over sets of requests: a decision for every address of a range, computed over the ranges the
//! policies distinguish, never by sampling.
//!
//! - `ips`: [`decide_over_ips`], a decision for every address of a range, by the sweep of `sweep` or piece by
//!   piece;
//! - `reach`: [`reach()`], the network origins from which a presigned URL can be created and used, over the classes
//!   of endpoint and VPC ids (`pairs`) and the addresses (`ips`).
//!
//! Here too the work counters the tests read (decisions made, steps taken).

mod ips;
mod pairs;
mod reach;
mod sweep;

pub(crate) use ips::all_addresses;
pub use ips::{IpOutcome, decide_over_ips};
pub use reach::{OTHER, Origin, ReachQuery, ReachStep, Step, Values, reach};

#[cfg(test)]
thread_local! {
    /// Decisions made by the analyses on this thread (tests only): their work.
    static DECISIONS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

#[inline(always)]
fn count_decision() {
    #[cfg(test)]
    DECISIONS.with(|d| d.set(d.get() + 1));
}

#[cfg(test)]
thread_local! {
    /// Steps of the analyses on this thread (tests only): statements visited by the decisions they make, range
    /// boundaries swept.
    static WORK: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

#[inline(always)]
fn count_work(_steps: u64) {
    #[cfg(test)]
    WORK.with(|d| d.set(d.get() + _steps));
}
