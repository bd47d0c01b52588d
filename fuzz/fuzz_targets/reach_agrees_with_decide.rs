//! Random small policies and endpoints: the reach classes of each step tile every origin, and a concrete origin
//! at both ends of every range of every class decides as the class says.
#![no_main]

use iamgate_fuzz::generate::GenReach;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// `IAMGATE_FUZZ_STRICT=1` also checks values named only in endpoint policies (a known, open bug).
fn strict() -> bool {
    static STRICT: OnceLock<bool> = OnceLock::new();
    *STRICT.get_or_init(|| std::env::var_os("IAMGATE_FUZZ_STRICT").is_some())
}

fuzz_target!(|input: GenReach| {
    iamgate_fuzz::checks::reach_agrees_with_decide_json(&input.render(), strict());
});
