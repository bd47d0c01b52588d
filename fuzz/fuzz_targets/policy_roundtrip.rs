//! Policy text -> AST -> canonical JSON -> AST: the same AST, spans aside.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        iamgate_fuzz::checks::policy_roundtrip(text);
    }
});
