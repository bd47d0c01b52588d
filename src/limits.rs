//! Limits on untrusted input. They are part of the API: every parser and compiler takes them.

/// Bounds that keep parsing and compiling of untrusted policy text linear and bounded in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest policy document, in bytes. Default 1 MiB (AWS's own limits are far smaller; see docs/SEMANTICS.md §1.11).
    pub max_document_bytes: usize,
    /// Deepest nesting of JSON arrays and objects. Default 32 (a policy needs 5).
    pub max_depth: usize,
    /// Most statements in one policy. Default 4,096.
    pub max_statements: usize,
    /// Longest single pattern (action, resource or condition value), in bytes. Default 8 KiB.
    pub max_pattern_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_document_bytes: 1 << 20,
            max_depth: 32,
            max_statements: 4096,
            max_pattern_bytes: 8192,
        }
    }
}
