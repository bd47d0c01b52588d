//! The serialisable boundary for the browser and other JavaScript hosts: JSON in, JSON out, nothing thrown.
//!
//! Every call answers an [`Answer`]: `{"result": "success", ...}` with the call's fields, or
//! `{"result": "failure", "errors": [...]}` where each error says what is wrong and where (the policy, its
//! line and UTF-16 column, the byte span, the JSON path in the input). Nothing panics across this boundary.
//!
//! - [`case`]: the Case format (docs/FORMATS.md §1), one request with its policies in and one decision record
//!   out, as `iamgate batch` reads and writes it (formerly `iamgate::ffi`).
//! - [`lint`]: diagnostics of one policy text, placed for an editor.
//! - [`compile`]: a set of policies (the Case contract's policy fields) into a [`Compiled`] the caller holds and
//!   decides against repeatedly: [`Compiled::decide`], [`Compiled::explain`] (with the byte spans of the deciding
//!   statements and of each condition), [`Compiled::presign`] (a network, its feeds given inline) and
//!   [`Compiled::reach`].
//!
//! ```
//! use iamgate::api::{compile, Answer};
//! let set = compile(r#"{"identity_policies": [{"Version": "2012-10-17",
//!   "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}]}"#).unwrap();
//! let answer = set.decide(r#"{"action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"}"#);
//! assert_eq!(answer.to_json(), r#"{"result":"success","decision":"Allow","reasons":[{"policy":"identity[0]","sid":null,"statement":0,"effect":"Allow"}]}"#);
//! ```

pub mod case;
mod flow;
mod held;
mod input;
mod json;
mod lint;
mod place;
mod set;

pub use flow::{PresignInput, ReachEndpoint, ReachInput, Reached};
pub use held::{HeldFields, KEPT};
pub use input::Doc;
pub use json::{Out, WriteJson};
pub use lint::{LintDiagnostic, LintInput, Linted, Related, lint, lint_json};
pub use place::{Place, place};
pub use set::{
    Compiled, ConditionOut, Decided, Explained, PlacedReason, SetInput, StatementOut, compile,
    compile_json,
};

use serde::Serialize;

/// The answer of every call: the call's fields on success, or the errors.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "result", rename_all = "lowercase")]
pub enum Answer<T> {
    /// The call worked: `{"result": "success", ...}` with `T`'s fields beside `result`.
    Success(T),
    /// The call could not be answered: `{"result": "failure", "errors": [...]}`.
    Failure {
        /// Every error found, at least one: what is wrong and where, each as the call's input placed it.
        errors: Vec<ApiError>,
    },
}

impl<T> Answer<T> {
    /// Whether the call worked ([`Answer::Success`]).
    pub fn is_success(&self) -> bool {
        matches!(self, Answer::Success(_))
    }
}

impl<T> From<Result<T, Vec<ApiError>>> for Answer<T> {
    fn from(r: Result<T, Vec<ApiError>>) -> Self {
        match r {
            Ok(v) => Answer::Success(v),
            Err(errors) => Answer::Failure { errors },
        }
    }
}

/// What went wrong and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiError {
    /// Lowercase, one line.
    pub message: String,
    /// What would be valid instead, when there is something useful to say; absent from the JSON otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// A stable kebab-case code when the error is a policy diagnostic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
    /// The policy the error is in, named as in decision reasons (`identity[0]`, `scps[1][0]`, `endpoint`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// The JSON path of the offending value in the call's input, e.g. `$.request.context`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The place: in the policy's text when `policy` is set, else in the call's input.
    #[serde(skip_serializing_if = "Option::is_none", flatten)]
    pub place: Option<Place>,
}

impl ApiError {
    /// An error with only a message: no help, code, policy, path or place (a host-side failure such as an
    /// answer that cannot be written).
    pub fn new(message: impl Into<String>) -> Self {
        ApiError {
            message: message.into(),
            help: None,
            code: None,
            policy: None,
            path: None,
            place: None,
        }
    }

    fn at(mut self, place: Place) -> Self {
        self.place = Some(place);
        self
    }

    fn path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }
}
