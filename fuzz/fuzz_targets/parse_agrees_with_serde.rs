//! Where serde_json accepts a document, our spanned parser accepts it and reads the same value; every span
//! holds exactly its value's text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        iamgate_fuzz::checks::parse_agrees_with_serde(text);
    }
});
