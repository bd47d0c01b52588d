//! The one serialisable boundary: JSON in, JSON out, nothing thrown. The CLI's batch mode, the C ABI and the
//! WASM playground all call this module.

pub mod case;

pub use case::{Case, CaseError, DecisionRecord, decide_case, resource_kind_of};
