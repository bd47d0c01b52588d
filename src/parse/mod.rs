//! Parsers: JSON with spans, and the micro-grammars inside policy strings.

pub(crate) mod grammar;
/// The spanned JSON tree the readers build on: private to the crate. The fuzz targets, benches and tests reach it
/// through the non-default `internals` feature; it is not an API and changes without notice.
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod json;
#[cfg(not(feature = "internals"))]
pub(crate) mod json;
pub mod placed;
