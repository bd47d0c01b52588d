//! Parsers: JSON with spans, and the micro-grammars inside policy strings.

pub mod json;
