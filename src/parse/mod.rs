//! Parsers: JSON with spans, and the micro-grammars inside policy strings.

pub(crate) mod grammar;
pub mod json;
pub mod placed;
