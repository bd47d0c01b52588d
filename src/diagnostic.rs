//! Diagnostics: errors and warnings with a byte span, help text, and rustc-style rendering.

use crate::span::{LineIndex, Span};
use serde::Serialize;
use std::fmt::Write as _;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Advice: the policy works, perhaps not as meant.
    Warning,
    /// The policy is refused, or never does what it says.
    Error,
}

/// One finding about a policy text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// A stable kebab-case code, e.g. `duplicate-key`.
    pub code: &'static str,
    /// Lowercase, one line, no final period.
    pub message: String,
    /// The bytes of the policy text it is about.
    pub span: Span,
    /// What to write instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Other places that take part (for example the first of two duplicate keys).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<(Span, String)>,
}

// The constructors stay functions of their own in the WebAssembly module (a diagnostic is built at a hundred
// places; inlined at each, they cost 4.4 KB: benches/README.md, "Size, seventh pass").
impl Diagnostic {
    /// An error with `code` at `span`.
    #[cfg_attr(target_arch = "wasm32", inline(never))]
    pub fn error(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            span,
            help: None,
            related: Vec::new(),
        }
    }

    /// A warning with `code` at `span`.
    #[cfg_attr(target_arch = "wasm32", inline(never))]
    pub fn warning(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, span, message)
        }
    }

    /// The same, with `help`.
    #[cfg_attr(target_arch = "wasm32", inline(never))]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// The same, pointing also at `span` with `label` (the first of two duplicates, say).
    #[cfg_attr(target_arch = "wasm32", inline(never))]
    pub fn with_related(mut self, span: Span, label: impl Into<String>) -> Self {
        self.related.push((span, label.into()));
        self
    }

    /// Whether it is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Render rustc-style against the policy `source`, naming the file `origin`.
    ///
    /// ```
    /// use iamgate::{diagnostic::Diagnostic, span::Span};
    /// let d = Diagnostic::error("x", Span::new(3, 8), "bad thing").with_help("do this");
    /// let out = d.render("{\n \"Bad\": 1}", "p.json");
    /// assert!(out.contains("error[x]: bad thing"));
    /// assert!(out.contains("p.json:2:2"));
    /// ```
    pub fn render(&self, source: &str, origin: &str) -> String {
        self.render_indexed(&LineIndex::new(source), origin)
    }

    /// [`Diagnostic::render`] with the source's line index built once for many diagnostics: the cost of each is
    /// then independent of where in a large text it points.
    pub fn render_indexed(&self, index: &LineIndex<'_>, origin: &str) -> String {
        let mut out = String::new();
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let _ = writeln!(out, "{label}[{}]: {}", self.code, self.message);
        snippet(&mut out, index, origin, self.span, "");
        for (span, text) in &self.related {
            snippet(&mut out, index, origin, *span, text);
        }
        if let Some(help) = &self.help {
            let _ = writeln!(out, "  = help: {help}");
        }
        out
    }
}

fn snippet(out: &mut String, index: &LineIndex<'_>, origin: &str, span: Span, label: &str) {
    let (line, col) = index.line_col(span.start as usize);
    let _ = writeln!(out, "  --> {origin}:{line}:{col}");
    let Some(text) = index.line(line) else {
        return;
    };
    let shown: String = text.chars().take(160).collect();
    let width = line.to_string().len();
    let _ = writeln!(out, "{:width$} |", "");
    let _ = writeln!(out, "{line} | {shown}");
    let start_col = col.saturating_sub(1);
    // The span's first line, counted no further than the snippet can show.
    let len = index.text().get(span.range()).map_or(1, |s| {
        s.lines()
            .next()
            .map_or(1, |l| l.chars().take(161).count().max(1))
    });
    let len = len.min(shown.chars().count().saturating_sub(start_col).max(1));
    let marker = format!(
        "{:width$} | {}{} {label}",
        "",
        " ".repeat(start_col),
        "^".repeat(len)
    );
    let _ = writeln!(out, "{}", marker.trim_end());
}
