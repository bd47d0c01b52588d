//! Arbitrary bytes split into lines, each decided as a case: one record per line, one JSON line per record.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    iamgate_fuzz::checks::batch_json(data);
});
