//! Arbitrary network files and feeds: parse or fail with a placed error; a parsed network derives both steps,
//! decides them and serialises its report, without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    iamgate_fuzz::checks::network_no_panic(data);
});
