//! Internals that the fuzz targets (fuzz/), the benches (benches/) and the integration tests (tests/) reach, behind
//! the non-default `internals` feature and hidden from the documentation. Not part of the API: they change without
//! notice. What an embedding needs is at the crate root and in the public modules (see the crate documentation).

/// The spanned JSON parser and its tree (`parse::json`, private to the crate without this feature).
pub use crate::parse::json;
pub use crate::policy::value::{CidrSet, Timestamp, parse_cidr, parse_ip};
pub use crate::rules::{RCP_SERVICES, rcp_governs};
pub use crate::shape::{action_ok, resource_ok};
