//! Random small policies and endpoints: the reach classes of each step tile every origin, and a concrete origin
//! at both ends of every range of every class decides as the class says.
#![no_main]

use iamgate_fuzz::generate::GenReach;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: GenReach| {
    iamgate_fuzz::checks::reach_agrees_with_decide_json(&input.render());
});
