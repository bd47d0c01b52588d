//! Arbitrary bytes into the JSON parser and `Policy::parse` (default and small limits), then validation,
//! error rendering, compilation and one decision: nothing panics, every span stays inside the text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    iamgate_fuzz::checks::parse_no_panic(data);
});
