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
#[derive(Clone, Default, PartialEq)]
pub struct Context {
    /// Sorted by lowercase key.
    entries: Vec<Entry>,
}

/// One key of a [`Context`], with what `decide` needs precomputed at insert time.
#[derive(Clone, PartialEq)]
pub(crate) struct Entry {
    /// Lowercase.
    pub key: String,
    /// [`key_hash`] of `key`: a decision finds a key by comparing hashes before any text.
    pub hash: u64,
    pub value: ContextValue,
    /// The address, for a single string value of a key documented as an IP (parsed anyway to check it).
    // INVARIANT: `Some` only when `value` is `One(Scalar::String(s))` and `parse_ip(s)` is this address.
    pub ip: Option<std::net::IpAddr>,
}

impl Entry {
    /// `ty`: `known_key_type(&key)`.
    fn new(key: String, ty: Option<KeyType>, value: ContextValue) -> Entry {
        let ip = match &value {
            ContextValue::One(s @ Scalar::String(_)) if ty == Some(KeyType::Ip) => s.ip(),
            _ => None,
        };
        Entry {
            hash: key_hash(key.as_bytes()),
            key,
            value,
            ip,
        }
    }
}

/// A fixed (not randomised) hash of a lowercase key. Collisions cost only a text comparison: every hit is
/// confirmed by comparing the keys.
pub(crate) fn key_hash(key: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = key.len() as u64;
    let mut chunks = key.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        // Byte by byte: a copy of variable length would call `memcpy`.
        let w = rest
            .iter()
            .enumerate()
            .fold(0u64, |w, (i, &b)| w | u64::from(b) << (8 * i));
        h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    }
    h
}

impl fmt::Debug for Context {
    /// As the derived form over `(key, value)` pairs (the precomputed fields are not shown).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries: Vec<(&String, &ContextValue)> =
            self.entries.iter().map(|e| (&e.key, &e.value)).collect();
        f.debug_struct("Context")
            .field("entries", &entries)
            .finish()
    }
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
        let ty = known_key_type(&lower);
        if let Some(ty) = ty {
            for s in value.as_slice() {
                check_type(key, ty, s)?;
            }
        }
        match self
            .entries
            .binary_search_by(|e| e.key.as_str().cmp(&lower))
        {
            Ok(i) => {
                if let Some(e) = self.entries.get_mut(i) {
                    *e = Entry::new(lower, ty, value);
                }
            }
            Err(i) => self.entries.insert(i, Entry::new(lower, ty, value)),
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
                .find(|e| e.key.eq_ignore_ascii_case(key))
                .map(|e| &e.value)
        } else {
            self.get_lower(key)
        }
    }

    /// The value of an already-lowercase key.
    pub fn get_lower(&self, lower: &str) -> Option<&ContextValue> {
        self.entry(lower).map(|e| &e.value)
    }

    /// The entry of an already-lowercase key.
    pub(crate) fn entry(&self, lower: &str) -> Option<&Entry> {
        self.entries
            .binary_search_by(|e| e.key.as_str().cmp(lower))
            .ok()
            .and_then(|i| self.entries.get(i))
    }

    /// The entry of an already-lowercase key whose [`key_hash`] is `hash`: a scan of hashes for the few keys a
    /// request usually has, the binary search otherwise.
    pub(crate) fn entry_hashed(&self, lower: &str, hash: u64) -> Option<&Entry> {
        if self.entries.len() > 16 {
            return self.entry(lower);
        }
        self.entries
            .iter()
            .find(|e| e.hash == hash && e.key == lower)
    }

    pub fn remove(&mut self, key: &str) -> Option<ContextValue> {
        let lower = key.to_ascii_lowercase();
        let i = self
            .entries
            .binary_search_by(|e| e.key.as_str().cmp(&lower))
            .ok()?;
        Some(self.entries.remove(i).value)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &ContextValue)> {
        self.entries.iter().map(|e| (e.key.as_str(), &e.value))
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
