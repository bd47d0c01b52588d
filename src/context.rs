//! Requests and their context: the values that condition keys read.
//!
//! Context values are taken exactly as given (DESIGN.md, Case): no key is added, dropped or derived.

use crate::policy::pattern::Vars;
use crate::policy::value::{Timestamp, parse_bool, parse_cidr, parse_ip, parse_number};
use std::fmt;

/// One scalar context value as the caller gave it.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    String(String),
    Number(f64, String),
    Bool(bool),
}

impl Scalar {
    /// The value as text (numbers as written, booleans as `true`/`false`).
    pub fn text(&self) -> &str {
        match self {
            Scalar::String(s) | Scalar::Number(_, s) => s,
            Scalar::Bool(true) => "true",
            Scalar::Bool(false) => "false",
        }
    }

    pub fn number(&self) -> Option<f64> {
        match self {
            Scalar::Number(n, _) => Some(*n),
            Scalar::String(s) => parse_number(s),
            Scalar::Bool(_) => None,
        }
    }

    pub fn boolean(&self) -> Option<bool> {
        match self {
            Scalar::Bool(b) => Some(*b),
            Scalar::String(s) => parse_bool(s),
            Scalar::Number(..) => None,
        }
    }

    pub fn timestamp(&self) -> Option<Timestamp> {
        match self {
            Scalar::Number(n, _) if n.fract() == 0.0 => {
                // INVARIANT: no overflow; a value beyond i128 nanoseconds is not a date.
                (*n as i128).checked_mul(1_000_000_000).map(Timestamp)
            }
            Scalar::Number(..) | Scalar::Bool(_) => None,
            Scalar::String(s) => s.parse().ok(),
        }
    }

    pub fn ip(&self) -> Option<std::net::IpAddr> {
        match self {
            Scalar::String(s) => parse_ip(s),
            _ => None,
        }
    }
}

impl From<&str> for Scalar {
    fn from(s: &str) -> Self {
        Scalar::String(s.to_string())
    }
}

impl From<bool> for Scalar {
    fn from(b: bool) -> Self {
        Scalar::Bool(b)
    }
}

/// A context value: one scalar, or a list (a multivalued key).
#[derive(Debug, Clone, PartialEq)]
pub enum ContextValue {
    One(Scalar),
    Many(Vec<Scalar>),
}

impl ContextValue {
    pub fn as_slice(&self) -> &[Scalar] {
        match self {
            ContextValue::One(s) => std::slice::from_ref(s),
            ContextValue::Many(v) => v,
        }
    }
}

/// The type that AWS documents for a global key, used to reject malformed values at ingest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    Ip,
    Bool,
    Numeric,
    Date,
    String,
}

/// The documented type of well-known global condition keys (lowercase name); `None` for any other key.
pub fn known_key_type(lower: &str) -> Option<KeyType> {
    Some(match lower {
        "aws:sourceip" | "aws:vpcsourceip" => KeyType::Ip,
        "aws:viaawsservice"
        | "aws:securetransport"
        | "aws:multifactorauthpresent"
        | "aws:principalisawsservice" => KeyType::Bool,
        "aws:multifactorauthage" => KeyType::Numeric,
        "aws:currenttime" | "aws:tokenissuetime" => KeyType::Date,
        "aws:epochtime" => KeyType::Numeric,
        "aws:sourcevpc"
        | "aws:sourcevpce"
        | "aws:principalarn"
        | "aws:principalaccount"
        | "aws:username"
        | "aws:userid"
        | "aws:principaltype"
        | "aws:requestedregion"
        | "aws:principalorgid" => KeyType::String,
        _ => return None,
    })
}

/// Why a context value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("context key `{key}`: {message}")]
pub struct ContextError {
    pub key: String,
    pub message: String,
}

/// The request context: condition keys (case-insensitive) to values.
///
/// ```
/// use iamgate::context::{Context, ContextValue, Scalar};
/// let mut c = Context::new();
/// c.insert("aws:SourceIp", ContextValue::One("203.0.113.7".into())).unwrap();
/// assert!(c.get("AWS:SOURCEIP").is_some());
/// assert!(c.insert("aws:SourceIp", ContextValue::One("not-an-ip".into())).is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context {
    /// Sorted by lowercase key.
    entries: Vec<(String, ContextValue)>,
}

impl Context {
    pub fn new() -> Self {
        Context::default()
    }

    /// Add or replace a key. Values of keys with a documented type (`aws:SourceIp` is an IP address,
    /// `aws:ViaAWSService` a boolean, ...) are checked here, so that a typo is an error rather than a silent
    /// non-match.
    pub fn insert(&mut self, key: &str, value: ContextValue) -> Result<(), ContextError> {
        let lower = key.to_ascii_lowercase();
        if let Some(ty) = known_key_type(&lower) {
            for s in value.as_slice() {
                check_type(key, ty, s)?;
            }
        }
        match self
            .entries
            .binary_search_by(|(k, _)| k.as_str().cmp(&lower))
        {
            Ok(i) => {
                if let Some(e) = self.entries.get_mut(i) {
                    e.1 = value;
                }
            }
            Err(i) => self.entries.insert(i, (lower, value)),
        }
        Ok(())
    }

    /// Builder form of [`Context::insert`].
    pub fn with(mut self, key: &str, value: impl Into<Scalar>) -> Result<Self, ContextError> {
        self.insert(key, ContextValue::One(value.into()))?;
        Ok(self)
    }

    /// The value of `key`, compared case-insensitively.
    pub fn get(&self, key: &str) -> Option<&ContextValue> {
        if key.bytes().any(|b| b.is_ascii_uppercase()) {
            self.entries
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        } else {
            self.get_lower(key)
        }
    }

    /// The value of an already-lowercase key.
    pub fn get_lower(&self, lower: &str) -> Option<&ContextValue> {
        self.entries
            .binary_search_by(|(k, _)| k.as_str().cmp(lower))
            .ok()
            .and_then(|i| self.entries.get(i))
            .map(|(_, v)| v)
    }

    pub fn remove(&mut self, key: &str) -> Option<ContextValue> {
        let lower = key.to_ascii_lowercase();
        let i = self
            .entries
            .binary_search_by(|(k, _)| k.as_str().cmp(&lower))
            .ok()?;
        Some(self.entries.remove(i).1)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &ContextValue)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

fn check_type(key: &str, ty: KeyType, s: &Scalar) -> Result<(), ContextError> {
    let bad = |what: &str| ContextError {
        key: key.to_string(),
        message: format!("`{}` is not {what}", s.text()),
    };
    match ty {
        KeyType::Ip => {
            if s.ip().is_none() {
                // A CIDR is not a request value; say so precisely.
                let msg = if matches!(s, Scalar::String(t) if parse_cidr(t).is_ok()) {
                    "a single IP address (a request comes from one address, not a range)"
                } else {
                    "an IP address; write for example `203.0.113.7` or `2001:db8::7`"
                };
                return Err(bad(msg));
            }
        }
        KeyType::Bool => {
            if s.boolean().is_none() {
                return Err(bad("a boolean; write `true` or `false`"));
            }
        }
        KeyType::Numeric => {
            if s.number().is_none() {
                return Err(bad("a number"));
            }
        }
        KeyType::Date => {
            if s.timestamp().is_none() {
                return Err(bad(
                    "a date; write ISO 8601 such as `2024-03-01T12:00:00Z` or epoch seconds",
                ));
            }
        }
        KeyType::String => {}
    }
    Ok(())
}

impl Vars for Context {
    /// Only single-valued keys can be policy variables (§2.3).
    fn var(&self, key: &str) -> Option<&str> {
        match self.get_lower(key)? {
            ContextValue::One(s) => Some(s.text()),
            ContextValue::Many(_) => None,
        }
    }
}

/// One request to decide.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Request {
    /// The calling principal's ARN (`arn:aws:iam::ACCOUNT:role/NAME`, an assumed-role session ARN, ...), or a
    /// service principal such as `ec2.amazonaws.com`.
    pub principal: Option<String>,
    /// `service:ActionName`.
    pub action: String,
    /// The resource ARN (or `*`).
    pub resource: String,
    /// The resource's account when the ARN has none (S3, for example).
    pub resource_account: Option<String>,
    pub context: Context,
}

impl Request {
    pub fn new(action: &str, resource: &str) -> Self {
        Request {
            action: action.to_string(),
            resource: resource.to_string(),
            ..Request::default()
        }
    }

    pub fn principal(mut self, arn: &str) -> Self {
        self.principal = Some(arn.to_string());
        self
    }

    pub fn context(mut self, context: Context) -> Self {
        self.context = context;
        self
    }

    /// The principal's account: the ARN's account field, or a bare 12-digit account id.
    pub fn principal_account(&self) -> Option<&str> {
        let p = self.principal.as_deref()?;
        crate::policy::arn::account(p).or_else(|| is_account_id(p).then_some(p))
    }

    /// The resource's account: `resource_account`, else the ARN's, else the principal's (DESIGN.md, Case).
    pub fn resource_account(&self) -> Option<&str> {
        self.resource_account
            .as_deref()
            .or_else(|| crate::policy::arn::account(&self.resource))
            .or_else(|| self.principal_account())
    }
}

pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}
