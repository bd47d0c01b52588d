//! `lint`: every diagnostic of one policy text, placed for an editor.

use super::input::Reader;
use super::place::{Place, of_span};
use super::{Answer, ApiError};
use crate::diagnostic::Severity;
use crate::policy::{Policy, PolicyKind, UnknownPolicyKind};
use crate::validate::validate;
use serde::Serialize;

/// `{"policy": TEXT, "kind": "identity"}`; `kind` is one of identity (the default), resource, boundary,
/// session, scp, rcp, endpoint, trust (a role's trust policy), key (a KMS key policy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintInput {
    /// The policy text, as written (JSON in a string); every place in the answer is in this text.
    pub policy: String,
    /// The kind of policy to check it as, by its name (`"scp"`, `"trust"`, ...); `None` is identity. A name that
    /// is not a kind is an error at `$.kind` whose help lists the kinds.
    pub kind: Option<String>,
}

impl LintInput {
    /// Read lint's input; `policy` is required.
    pub fn read(text: &str) -> Result<Self, Vec<ApiError>> {
        let arena = crate::parse::json::Arena::new();
        let (r, root) = Reader::parse(text, &arena)?;
        let (mut policy, mut kind) = (None, None);
        for m in r.object(&root, "$", &["policy", "kind"])? {
            match m.key {
                "policy" => policy = Some(r.string(&m.value, "$.policy")?.into_owned()),
                _ => kind = r.opt_string(&m.value, "$.kind")?.map(|k| k.into_owned()),
            }
        }
        let Some(policy) = policy else {
            return Err(vec![
                ApiError::new("invalid input: missing field `policy`").path("$.policy"),
            ]);
        };
        Ok(LintInput { policy, kind })
    }
}

/// The diagnostics, sorted by position, and how many are errors and warnings.
#[derive(Debug, Clone, Serialize)]
pub struct Linted {
    /// Every diagnostic: the syntax errors when the text does not parse, else every check for its kind.
    pub diagnostics: Vec<LintDiagnostic>,
    /// How many of `diagnostics` are errors: the policy is refused, or never does what it says. Zero means the
    /// policy is valid for its kind.
    pub errors: usize,
    /// How many of `diagnostics` are warnings (advice: the policy works, perhaps not as meant).
    pub warnings: usize,
}

/// One diagnostic.
#[derive(Debug, Clone, Serialize)]
pub struct LintDiagnostic {
    /// `"error"` or `"warning"`.
    pub severity: Severity,
    /// A stable kebab-case code (`invalid-effect`, `duplicate-key`): the same code `iamgate lint --json`
    /// prints (docs/FORMATS.md §7), and for a trap of docs/SEMANTICS.md §7 the same as in `presign`'s findings.
    pub code: &'static str,
    /// What is wrong: lowercase, one line, no final period.
    pub message: String,
    /// What to write instead, when there is something useful to say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Where in [`LintInput::policy`]'s text; its fields (`line`, `column`, `end_line`, `end_column`, `span`)
    /// are written beside the others.
    #[serde(flatten)]
    pub place: Place,
    /// Other places that take part, each with a label.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<Related>,
}

/// Another place in the policy text that takes part in a diagnostic (the first of two duplicate keys).
#[derive(Debug, Clone, Serialize)]
pub struct Related {
    /// What the place is, in words (`first written here`).
    pub label: String,
    /// Where it is, flattened as in [`LintDiagnostic::place`].
    #[serde(flatten)]
    pub place: Place,
}

/// The kind named by `"kind"` (identity when absent), with `PolicyKind`'s own names and error.
pub(crate) fn kind(name: Option<&str>) -> Result<PolicyKind, Vec<ApiError>> {
    name.unwrap_or("identity")
        .parse()
        .map_err(|e: UnknownPolicyKind| {
            let help = e.help();
            vec![ApiError::new(e.to_string()).path("$.kind").with_help(help)]
        })
}

impl ApiError {
    pub(crate) fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// Lint one policy text: its syntax errors, or else the checks for its kind.
///
/// ```
/// use iamgate::api::{lint, Answer};
/// let Answer::Success(out) = lint(r#"{"policy": "{\"Version\": \"2012-10-17\",\n \"Statement\": [{\"Effect\": \"allow\"}]}"}"#)
/// else { panic!() };
/// assert_eq!(out.diagnostics[0].code, "invalid-effect");
/// assert_eq!((out.diagnostics[0].place.line, out.diagnostics[0].place.column), (2, 27));
/// ```
pub fn lint(input: &str) -> Answer<Linted> {
    let run = || -> Result<Linted, Vec<ApiError>> {
        let input = LintInput::read(input)?;
        let kind = kind(input.kind.as_deref())?;
        Ok(lint_text(&input.policy, kind))
    };
    run().into()
}

/// [`lint`] as JSON text in and out.
pub fn lint_json(input: &str) -> String {
    lint(input).to_json()
}

pub(crate) fn lint_text(text: &str, kind: PolicyKind) -> Linted {
    let diagnostics = match Policy::parse(text) {
        Ok(p) => validate(&p, kind),
        Err(e) => e.diagnostics,
    };
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    let diagnostics = diagnostics
        .into_iter()
        .map(|d| LintDiagnostic {
            severity: d.severity,
            code: d.code,
            place: of_span(text, d.span),
            related: d
                .related
                .iter()
                .map(|(span, label)| Related {
                    label: label.clone(),
                    place: of_span(text, *span),
                })
                .collect(),
            message: d.message,
            help: d.help,
        })
        .collect();
    Linted {
        diagnostics,
        errors,
        warnings,
    }
}
