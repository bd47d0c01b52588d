//! Shared code of the fuzz targets: the properties they check ([`checks`]), the naive reference evaluator
//! ([`reference`]), the canonical policy printer ([`canonical`]) and the structured input generators
//! ([`generate`]). `checks`, `reference` and `canonical` depend only on `iamgate` and `serde_json`, so that
//! `tests/it/regressions.rs` includes them with `#[path]` and replays every minimized crash through the same
//! check in an ordinary `cargo test`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod canonical;
pub mod checks;
pub mod generate;
pub mod reference;
