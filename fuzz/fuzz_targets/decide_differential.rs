//! Structured random cases (policies of every kind, requests, contexts): the compiled fast path, explain,
//! decide_with_reasons and the naive reference evaluator agree on the decision and the reasons.
#![no_main]

use iamgate_fuzz::generate::GenCase;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|case: GenCase| {
    iamgate_fuzz::checks::decide_differential(&case.render());
});
