//! Requests and their context: the values that condition keys read.
//!
//! Context values are taken exactly as given (docs/FORMATS.md §1): no key is added, dropped or derived.

use crate::policy::pattern::Vars;
use crate::policy::value::{Timestamp, parse_bool, parse_cidr, parse_number, parse_request_ip};
use std::borrow::Cow;
use std::fmt;
// The byte helpers `policy` shares live in crate::bytes (a module that depends on nothing, so that `policy` does
// not import `context`); the evaluator reaches them through here.
pub(crate) use crate::bytes::{eq_bytes, eq_lower, key_hash, word};

/// One scalar context value as the caller gave it.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// A string.
    String(String),
    /// A JSON number: its value and its text as written.
    Number(f64, String),
    /// A JSON boolean.
    Bool(bool),
}

impl Scalar {
    /// The same value, borrowed: what the evaluator reads.
    pub fn as_ref(&self) -> ScalarRef<'_> {
        match self {
            Scalar::String(s) => ScalarRef::String(s),
            Scalar::Number(n, s) => ScalarRef::Number(*n, s),
            Scalar::Bool(b) => ScalarRef::Bool(*b),
        }
    }

    /// The value as text (numbers as written, booleans as `true`/`false`).
    pub fn text(&self) -> &str {
        self.as_ref().text()
    }

    /// The value as a number, if it is one (a numeric string counts).
    pub fn number(&self) -> Option<f64> {
        self.as_ref().number()
    }

    /// The value as a boolean, if it is one (`"true"` and `"false"` count).
    pub fn boolean(&self) -> Option<bool> {
        self.as_ref().boolean()
    }

    /// The value as a date (ISO 8601 text or epoch seconds), if it is one.
    pub fn timestamp(&self) -> Option<Timestamp> {
        self.as_ref().timestamp()
    }

    /// The value as an IP address, as AWS sees it (see [`ScalarRef::ip`]).
    pub fn ip(&self) -> Option<std::net::IpAddr> {
        self.as_ref().ip()
    }
}

/// One scalar context value, borrowed: from a [`Scalar`] or from the text of a [`RequestRef`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ScalarRef<'a> {
    /// A string.
    String(&'a str),
    /// A JSON number: its value and its text as written.
    Number(f64, &'a str),
    /// A JSON boolean.
    Bool(bool),
}

impl<'a> ScalarRef<'a> {
    /// The value as text (numbers as written, booleans as `true`/`false`).
    pub fn text(self) -> &'a str {
        match self {
            ScalarRef::String(s) | ScalarRef::Number(_, s) => s,
            ScalarRef::Bool(true) => "true",
            ScalarRef::Bool(false) => "false",
        }
    }

    /// The value as a finite number, if it is one (a numeric string counts).
    pub fn number(self) -> Option<f64> {
        match self {
            // A non-finite number is refused at ingest; should one get here, it is no number.
            ScalarRef::Number(n, _) => Some(n).filter(|n| n.is_finite()),
            ScalarRef::String(s) => parse_number(s),
            ScalarRef::Bool(_) => None,
        }
    }

    /// The value as a boolean, if it is one (`"true"` and `"false"` count).
    pub fn boolean(self) -> Option<bool> {
        match self {
            ScalarRef::Bool(b) => Some(b),
            ScalarRef::String(s) => parse_bool(s),
            ScalarRef::Number(..) => None,
        }
    }

    /// The value as a date (ISO 8601 text or whole epoch seconds), if it is one.
    pub fn timestamp(self) -> Option<Timestamp> {
        match self {
            ScalarRef::Number(n, _) if n.fract() == 0.0 => {
                // INVARIANT: no overflow; a value beyond i128 nanoseconds is not a date.
                (n as i128).checked_mul(1_000_000_000).map(Timestamp)
            }
            ScalarRef::Number(..) | ScalarRef::Bool(_) => None,
            ScalarRef::String(s) => s.parse().ok(),
        }
    }

    /// The address, as AWS sees it: an IPv4-mapped IPv6 address (`::ffff:203.0.113.7`) is its IPv4 address
    /// (docs/SEMANTICS.md §9 row 16).
    pub fn ip(self) -> Option<std::net::IpAddr> {
        match self {
            ScalarRef::String(s) => parse_request_ip(s),
            _ => None,
        }
    }
}

impl fmt::Display for ScalarRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

impl From<&str> for Scalar {
    fn from(s: &str) -> Self {
        Scalar::String(s.to_string())
    }
}

impl Scalar {
    /// The value of an IP-address key for the peer address `addr` of a connection, as AWS would see it: a
    /// dual-stack socket reports an IPv4 peer as `::ffff:203.0.113.7`, which AWS sees as `203.0.113.7`, so the
    /// mapped form is written as its IPv4 address. (Text given as the mapped form is read the same way.)
    ///
    /// ```
    /// use iamgate::Scalar;
    /// let peer: std::net::IpAddr = "::ffff:203.0.113.7".parse().unwrap();
    /// assert_eq!(Scalar::from_ip(peer).text(), "203.0.113.7");
    /// assert_eq!(Scalar::from(peer), Scalar::from_ip(peer));
    /// assert_eq!(Scalar::from_ip("2001:db8::7".parse().unwrap()).text(), "2001:db8::7");
    /// ```
    pub fn from_ip(addr: std::net::IpAddr) -> Scalar {
        Scalar::String(addr.to_canonical().to_string())
    }
}

impl From<std::net::IpAddr> for Scalar {
    /// [`Scalar::from_ip`]: an IPv4-mapped address becomes its IPv4 address.
    fn from(addr: std::net::IpAddr) -> Self {
        Scalar::from_ip(addr)
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
    /// A single value.
    One(Scalar),
    /// A multivalued key's values.
    Many(Vec<Scalar>),
}

impl ContextValue {
    /// The values, one or many, as a slice.
    pub fn as_slice(&self) -> &[Scalar] {
        match self {
            ContextValue::One(s) => std::slice::from_ref(s),
            ContextValue::Many(v) => v,
        }
    }
}

/// Every key [`known_key_type`] knows, with its type: the keys whose values are checked at ingest (the catalog's
/// [`crate::keys::CHECKED_KEYS`]).
pub(crate) use crate::keys::CHECKED_KEYS as KNOWN_KEYS;
/// The type that AWS documents for a global key, used to reject malformed values at ingest (the catalog's
/// [`crate::keys::IngestType`]).
pub(crate) use crate::keys::IngestType as KeyType;
/// The documented type of the keys checked at ingest (lowercase name); `None` for any other key. Generated from
/// the condition-key catalog ([`crate::keys::checked_key_type`]).
pub(crate) use crate::keys::checked_key_type as known_key_type;

/// Why a request was refused at ingest: a context value, or (with `key` [`ContextError::ACTION`] or
/// [`ContextError::RESOURCE`]) the request's action or resource.
///
/// ```
/// use iamgate::{ContextError, Request};
/// let e = Request::new("s3:Get Object", "arn:aws:s3:::b/k").check().unwrap_err();
/// assert_eq!(e.key, ContextError::ACTION);
/// let e = Request::new("s3:GetObject", "bucket/key").check().unwrap_err();
/// assert_eq!(e.key, ContextError::RESOURCE);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextError {
    /// The key (or [`ContextError::ACTION`], [`ContextError::RESOURCE`]) refused, as given.
    pub key: String,
    /// Why: lowercase, one line.
    pub message: String,
}

impl ContextError {
    /// [`ContextError::key`] of an error about the request's action, which is not `service:ActionName`.
    pub const ACTION: &str = crate::shape::ACTION;
    /// [`ContextError::key`] of an error about the request's resource, which is neither `*` nor an ARN.
    pub const RESOURCE: &str = crate::shape::RESOURCE;
}

impl fmt::Display for ContextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.key.as_str() {
            ContextError::ACTION => write!(f, "action {}", self.message),
            ContextError::RESOURCE => write!(f, "resource {}", self.message),
            key => write!(f, "context key `{key}`: {}", self.message),
        }
    }
}

impl std::error::Error for ContextError {}

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
    /// Lowercase: a global key of the catalog (`crate::keys::GLOBAL_KEYS`) borrows the catalog's text, any other
    /// key owns its copy, so that the usual request's keys cost no allocation.
    pub key: Cow<'static, str>,
    /// `text_hash` of `key`: a decision finds a key by comparing hashes before any text, and a set's key table
    /// by this hash.
    pub hash: u64,
    pub value: ContextValue,
    /// The address, for a single string value of a key documented as an IP (parsed anyway to check it).
    // INVARIANT: `Some` only when `value` is `One(Scalar::String(s))` and `parse_ip(s)` is this address.
    pub ip: Option<std::net::IpAddr>,
}

/// The catalog's global keys (`crate::keys::GLOBAL_KEYS`), found in any case by the hash a context entry keeps
/// anyway ([`KeyText`]): one probe of a small open-addressed table and one [`Folded::is`] for the usual key, where
/// lowercasing a copy and matching its text cost several times that.
struct GlobalIndex {
    /// `0` for an empty slot, else one more than the key's place in `keys`; at most a third full, so a probe
    /// sequence always meets an empty slot.
    slots: [u8; GLOBAL_SLOTS],
    /// Each key's folding, its lowercase text and its type when its values are checked at ingest.
    keys: Vec<(Folded, &'static str, Option<KeyType>)>,
}

/// The most entries [`Context::settle`] sorts by insertion (a request's usual handful of keys).
const SMALL_SORT: usize = 16;

/// The slots of [`GlobalIndex`]: a power of two, at least three times the catalog's keys.
const GLOBAL_SLOTS: usize = 256;

impl GlobalIndex {
    fn build() -> GlobalIndex {
        let mut index = GlobalIndex {
            slots: [0; GLOBAL_SLOTS],
            keys: Vec::with_capacity(crate::keys::GLOBAL_KEYS.len()),
        };
        for g in crate::keys::GLOBAL_KEYS {
            let folded = Folded::of(g.lower.as_bytes());
            index.keys.push((folded, g.lower, known_key_type(g.lower)));
            let place = u8::try_from(index.keys.len()).unwrap_or(0);
            // Linear probing from the hash's bucket to the first empty slot.
            for k in 0..GLOBAL_SLOTS {
                let at = (folded.hash() as usize).wrapping_add(k) % GLOBAL_SLOTS;
                if let Some(slot @ 0) = index.slots.get_mut(at) {
                    *slot = place;
                    break;
                }
            }
        }
        index
    }

    /// The place in the catalog (`crate::keys::GLOBAL_KEYS`, the order `keys` was built in), lowercase text and
    /// checked type of `key` (`text` is its [`KeyText`]), if it is a global key in some ASCII case.
    #[inline]
    fn find(&self, key: &KeyText<'_>) -> Option<(usize, &'static str, Option<KeyType>)> {
        for k in 0..GLOBAL_SLOTS {
            let at = (key.hash() as usize).wrapping_add(k) % GLOBAL_SLOTS;
            let place = usize::from(*self.slots.get(at)?).checked_sub(1)?;
            let (folded, lower, ty) = self.keys.get(place)?;
            if folded.is(key, lower.as_bytes()) {
                return Some((place, lower, *ty));
            }
        }
        None
    }
}

/// Where `key` (any ASCII case) stands in the catalog of global keys (`crate::keys::GLOBAL_KEYS`), and the
/// `text_hash` of its lowercase text; `None` for a key outside the catalog. The one lookup of a key by its text:
/// a context entry and a compiled condition both find their key here.
#[inline]
pub(crate) fn global_place(key: &str) -> (Option<usize>, u64) {
    let text = KeyText::of(key.as_bytes());
    (
        GLOBAL_INDEX.find(&text).map(|(place, ..)| place),
        text.hash(),
    )
}

/// The index of the catalog's global keys, made on first use.
static GLOBAL_INDEX: std::sync::LazyLock<GlobalIndex> =
    std::sync::LazyLock::new(GlobalIndex::build);

/// `key` lowercased (ASCII), with its hash (`text_hash` of the lowercase text) and its type when its values are
/// checked at ingest ([`known_key_type`]): a global key of the catalog borrows the catalog's `&'static str` (no
/// allocation), any other key is an owned copy (and no key outside the catalog is checked).
fn lower_key(key: &str) -> (Cow<'static, str>, u64, Option<KeyType>) {
    let text = KeyText::of(key.as_bytes());
    match GLOBAL_INDEX.find(&text) {
        Some((_, lower, ty)) => (Cow::Borrowed(lower), text.hash(), ty),
        None => (Cow::Owned(key.to_ascii_lowercase()), text.hash(), None),
    }
}

/// The hash of a context key that [`KeyText`] and [`Folded`] use, the same in any ASCII case: of its length and
/// first and last eight bytes (tests: the code reads it from a [`KeyText`], which computes it once).
#[cfg(test)]
pub(crate) fn text_hash(key: &[u8]) -> u64 {
    KeyText::of(key).hash
}

/// [`key_hash`] of the decimal text of `n` (tests of the tables built on it).
#[cfg(test)]
pub(crate) fn key_hash_words_test(n: u64) -> u64 {
    key_hash(n.to_string().as_bytes())
}

/// How many words of a key [`Folded`] keeps: its first and last eight bytes and up to `KEPT - 2` words between,
/// 48 bytes in all, more than most keys and actions have. The rest of a longer key is compared as text.
const KEPT: usize = 6;

/// `0x20` in every byte: ORed into a byte, it turns a capital into its lowercase letter and leaves the byte the
/// same whatever the case of the text around it.
const FOLD: u64 = 0x2020_2020_2020_2020;

/// A key as the request gave it, in any case, ready to be looked up: its first and last eight bytes (two loads,
/// whatever its length; a key shorter than eight bytes zero-padded in `first`, `last` 0) and its hash, from its
/// length and those two words; [`Folded::is`] then compares it whole, the two words without loading them again.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyText<'a> {
    raw: &'a [u8],
    hash: u64,
    first: u64,
    last: u64,
}

impl<'a> KeyText<'a> {
    #[inline]
    pub fn of(raw: &'a [u8]) -> KeyText<'a> {
        let (first, last) = ends(raw);
        // Case-blind: a capital and its lowercase letter agree once ORed with 0x20. One multiplication mixes the
        // two words and the length; the fold below brings its high bits, which it mixed, to the low ones that
        // pick a bucket. Keys crafted to collide cost a comparison each, within bounded probes.
        let (f, l) = (first | FOLD, last | FOLD);
        let h = (f ^ l.rotate_left(29) ^ (raw.len() as u64).rotate_left(58))
            .wrapping_mul(0x9e37_79b9_7f4a_7c15);
        KeyText {
            raw,
            hash: h ^ (h >> 32),
            first,
            last,
        }
    }

    /// The same for any case of the key. Keys that share their length and first and last eight bytes collide
    /// (a lookup then compares them all); tables built on it bound their probes (`compile::MAX_PROBE`).
    #[inline]
    pub fn hash(&self) -> u64 {
        self.hash
    }
}

/// A lowercase key as a table keeps it to compare with a [`KeyText`]: its hash, its first and last words as
/// [`KeyText`] takes them, up to `KEPT - 2` words between (at 8, 16, ..., each ending at or before its last eight
/// bytes begin or overlapping them) and, per word, `0x20` on each byte that is a letter (the one bit by which that
/// byte may differ in a key given in another case).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Folded {
    len: usize,
    hash: u64,
    /// `[first, last]`, then the middle words.
    words: [u64; KEPT],
    letters: [u64; KEPT],
}

/// How many middle words (at 8, 16, ...) a key of `len` bytes has before its last eight, at most `KEPT - 2`.
#[inline(always)]
fn middle_words(len: usize) -> usize {
    (len.saturating_sub(9) / 8).min(KEPT - 2)
}

/// The eight bytes of `b` from `at`, or 0 (the caller ensures they exist).
#[inline(always)]
fn load(b: &[u8], at: usize) -> u64 {
    b.get(at..)
        .and_then(|r| r.first_chunk::<8>())
        .map_or(0, |c| u64::from_le_bytes(*c))
}

impl Folded {
    /// The folding of `lower`, a lowercase key.
    pub fn of(lower: &[u8]) -> Folded {
        let mut words = [0u64; KEPT];
        let (first, last) = ends(lower);
        let [w0, w1, middle @ ..] = &mut words;
        (*w0, *w1) = (first, last);
        for (i, w) in middle
            .iter_mut()
            .take(middle_words(lower.len()))
            .enumerate()
        {
            *w = load(lower, 8 * (i + 1));
        }
        // A byte that is a lowercase letter: 0x20 there. Adding per byte cannot carry (seven bits).
        let letters = words.map(|w| {
            const ONES: u64 = 0x0101_0101_0101_0101;
            const HIGH: u64 = 0x8080_8080_8080_8080;
            let low = w & !HIGH;
            let ge_a = low + ONES * (0x80 - u64::from(b'a'));
            let gt_z = low + ONES * (0x80 - u64::from(b'z') - 1);
            ((ge_a & !gt_z & !w & HIGH) >> 2) & FOLD
        });
        Folded {
            len: lower.len(),
            hash: KeyText::of(lower).hash,
            words,
            letters,
        }
    }

    #[inline]
    pub fn hash(&self) -> u64 {
        self.hash
    }

    /// Whether `key` is this key in some case; `lower` is this key's text. A byte may differ from this key's
    /// only by `0x20`, and only where this key has a letter.
    #[inline]
    pub fn is(&self, key: &KeyText<'_>, lower: &[u8]) -> bool {
        let n = key.raw.len();
        if n != self.len || key.hash != self.hash {
            return false;
        }
        let [w0, w1, ..] = self.words;
        let [m0, m1, ..] = self.letters;
        let mut diff = ((key.first ^ w0) & !m0) | ((key.last ^ w1) & !m1);
        if n > 16 {
            diff |= self.middle_differs(key.raw);
        }
        diff == 0 && (n <= 8 * KEPT || same_middle(key.raw, lower))
    }

    /// The middle words of `raw` (of this key's length) against this key's, as [`Folded::is`] compares them.
    #[inline(always)]
    fn middle_differs(&self, raw: &[u8]) -> u64 {
        let m = middle_words(raw.len());
        let mut diff = 0;
        // Unrolled: a loop's setup costs more than its few words.
        for i in 0..KEPT - 2 {
            if i < m {
                diff |= match (self.words.get(2 + i), self.letters.get(2 + i)) {
                    (Some(w), Some(l)) => (load(raw, 8 * (i + 1)) ^ w) & !l,
                    _ => 1,
                };
            }
        }
        diff
    }
}

/// Whether the middle of a key longer than [`Folded`] keeps, past its kept words, is that of `lower` in some case.
#[cold]
#[inline(never)]
fn same_middle(raw: &[u8], lower: &[u8]) -> bool {
    fn middle(b: &[u8]) -> &[u8] {
        b.get(8 * (KEPT - 1)..b.len().saturating_sub(8))
            .unwrap_or_default()
    }
    eq_lower(middle(raw), middle(lower))
}

/// A text's length and first, second and last eight bytes, kept to recognise it among others by four comparisons
/// up to 24 bytes (the usual condition key), by those and a comparison of the whole text beyond.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shape {
    len: usize,
    first: u64,
    second: u64,
    last: u64,
}

impl Shape {
    pub fn of(t: &[u8]) -> Shape {
        let (first, last) = ends(t);
        Shape {
            len: t.len(),
            first,
            second: second(t),
            last,
        }
    }

    /// Whether `t` is `text`, whose shape this is.
    #[inline]
    pub fn is(&self, text: &[u8], t: &[u8]) -> bool {
        t.len() == self.len
            && ends(t) == (self.first, self.last)
            && (t.len() <= 16 || (second(t) == self.second && (t.len() <= 24 || eq_bytes(text, t))))
    }
}

/// The second eight bytes of `t`, when it has more than sixteen (fewer are all in its first and last eight).
#[inline(always)]
fn second(t: &[u8]) -> u64 {
    match t.get(8..).and_then(|r| r.first_chunk::<8>()) {
        Some(w) if t.len() > 16 => u64::from_le_bytes(*w),
        _ => 0,
    }
}

/// The first and last eight bytes of `t` as words; for fewer than eight, its bytes zero-padded, and 0.
#[inline(always)]
fn ends(t: &[u8]) -> (u64, u64) {
    match (t.first_chunk::<8>(), crate::bytes::last8(t)) {
        (Some(f), Some(l)) => (u64::from_le_bytes(*f), u64::from_le_bytes(*l)),
        _ => (word(t), 0),
    }
}

impl fmt::Debug for Context {
    /// As the derived form over `(key, value)` pairs (the precomputed fields are not shown).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries: Vec<(&str, &ContextValue)> =
            self.entries.iter().map(|e| (&*e.key, &e.value)).collect();
        f.debug_struct("Context")
            .field("entries", &entries)
            .finish()
    }
}

impl Context {
    /// An empty context.
    pub fn new() -> Self {
        Context::default()
    }

    /// Add or replace a key. Values of keys with a documented type (`aws:SourceIp` is an IP address,
    /// `aws:ViaAWSService` a boolean, ...) are checked here, so that a typo is an error rather than a silent
    /// non-match. Those keys are single-valued: AWS never sends a list for them, so a list is refused. A number
    /// that is not finite (NaN, an infinity) is refused for every key: no comparison could hold for it.
    ///
    /// ```
    /// use iamgate::context::{Context, ContextValue, Scalar};
    /// let mut c = Context::new();
    /// let two = ContextValue::Many(vec!["203.0.113.7".into(), "10.0.0.1".into()]);
    /// assert!(c.insert("aws:SourceIp", two).is_err());
    /// let nan = ContextValue::One(Scalar::Number(f64::NAN, "NaN".into()));
    /// assert!(c.insert("aws:MultiFactorAuthAge", nan).is_err());
    /// ```
    pub fn insert(&mut self, key: &str, value: ContextValue) -> Result<(), ContextError> {
        let entry = Context::checked(key, value)?;
        match self.entries.binary_search_by(|e| e.key.cmp(&entry.key)) {
            Ok(i) => {
                if let Some(e) = self.entries.get_mut(i) {
                    *e = entry;
                }
            }
            Err(i) => self.entries.insert(i, entry),
        }
        Ok(())
    }

    /// The entry for `key` and `value` with every check of [`Context::insert`] applied (one place for both
    /// `insert` and [`Context::extend`]).
    fn checked(key: &str, value: ContextValue) -> Result<Entry, ContextError> {
        let (lower, hash, ty) = lower_key(key);
        // The address of a single IP value, parsed once by its check and kept for `decide`.
        let mut ip = None;
        if let Some(ty) = ty {
            let ContextValue::One(s) = &value else {
                return Err(listed(key));
            };
            ip = check_type(key, ty, s.as_ref())?;
        }
        if let Some(Scalar::Number(n, t)) = value
            .as_slice()
            .iter()
            .find(|s| matches!(s, Scalar::Number(n, _) if !n.is_finite()))
        {
            return Err(ContextError {
                key: key.to_string(),
                message: format!("`{t}` ({}) is not a finite number", non_finite(*n)),
            });
        }
        // INVARIANT (`Entry::ip`): `check_type` gives an address only for an IP key's string, the one value here.
        Ok(Entry {
            key: lower,
            hash,
            value,
            ip,
        })
    }

    /// Add many keys at once, in any order, in O(n log n) (one [`Context::insert`] per key costs a shift of the
    /// keys after it, quadratic for keys given in descending order). Each value is checked as `insert` checks it;
    /// the first refused stops the run and is returned, the keys before it stay added. A key given again (in any
    /// ASCII case) replaces the earlier value, as repeated inserts would.
    ///
    /// ```
    /// use iamgate::context::{Context, ContextValue};
    /// let mut c = Context::new();
    /// c.extend([("b:k", ContextValue::One("1".into())), ("A:K", ContextValue::One("2".into())),
    ///           ("a:k", ContextValue::One("3".into()))]).unwrap();
    /// assert_eq!(c.iter().map(|(k, _)| k).collect::<Vec<_>>(), ["a:k", "b:k"]);
    /// assert_eq!(c.get("a:k"), Some(&ContextValue::One("3".into())));
    /// ```
    pub fn extend<'k>(
        &mut self,
        pairs: impl IntoIterator<Item = (&'k str, ContextValue)>,
    ) -> Result<(), ContextError> {
        let mut result = Ok(());
        let before = self.entries.len();
        for (key, value) in pairs {
            match Context::checked(key, value) {
                Ok(entry) => self.entries.push(entry),
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        if self.entries.len() > before {
            self.settle();
        }
        result
    }

    /// Checks `key` and `value` as [`Context::insert`] does and adds them at the end, unsorted: the reader of a
    /// case fills a context in place this way, then calls [`Context::settle`] once (what [`Context::extend`]
    /// does, without a vector of the pairs first).
    pub(crate) fn push_unsorted(
        &mut self,
        key: &str,
        value: ContextValue,
    ) -> Result<(), ContextError> {
        self.entries.push(Context::checked(key, value)?);
        Ok(())
    }

    /// A context with room for `n` keys.
    pub(crate) fn with_capacity(n: usize) -> Context {
        Context {
            entries: Vec::with_capacity(n),
        }
    }

    /// Sorts the entries by key after [`Context::push_unsorted`] or [`Context::extend`]; of keys given more than
    /// once (in any ASCII case) the last given stays, as repeated inserts would leave it.
    pub(crate) fn settle(&mut self) {
        // Stable: of equal keys, the later stays later. A request's few keys are sorted by insertion in place;
        // more go through the library's stable sort.
        if self.entries.len() <= SMALL_SORT {
            for i in 1..self.entries.len() {
                let mut j = i;
                while j > 0 {
                    match self.entries.get(j - 1..=j) {
                        Some([a, b]) if a.key > b.key => self.entries.swap(j - 1, j),
                        _ => break,
                    }
                    j -= 1;
                }
            }
        } else {
            crate::sort::stable_by(&mut self.entries, |a, b| a.key.cmp(&b.key));
        }
        // Reversed, the dedup keeps the first of each run, which is the last given; reversed back, the keys ascend
        // again. Keys are usually distinct: then there is nothing to drop.
        if self
            .entries
            .windows(2)
            .any(|w| matches!(w, [a, b] if a.key == b.key))
        {
            self.entries.reverse();
            self.entries.dedup_by(|a, b| a.key == b.key);
            self.entries.reverse();
        }
    }

    /// Builder form of [`Context::insert`].
    pub fn with(mut self, key: &str, value: impl Into<Scalar>) -> Result<Self, ContextError> {
        self.insert(key, ContextValue::One(value.into()))?;
        Ok(self)
    }

    /// The value of `key`, compared case-insensitively.
    pub fn get(&self, key: &str) -> Option<&ContextValue> {
        if key.bytes().any(|b| b.is_ascii_uppercase()) {
            // Lowercased once, then the binary search: never a scan of every key.
            self.get_lower(&key.to_ascii_lowercase())
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
            .binary_search_by(|e| (*e.key).cmp(lower))
            .ok()
            .and_then(|i| self.entries.get(i))
    }

    /// The entry of an already-lowercase key whose `text_hash` is `hash`: a scan of hashes for the few keys a
    /// request usually has, the binary search otherwise.
    #[inline]
    pub(crate) fn entry_hashed(&self, lower: &str, hash: u64) -> Option<&Entry> {
        if self.entries.len() > 16 {
            return self.entry(lower);
        }
        self.entries
            .iter()
            .find(|e| e.hash == hash && eq_bytes(e.key.as_bytes(), lower.as_bytes()))
    }

    /// Remove a key (in any case), returning its value.
    pub fn remove(&mut self, key: &str) -> Option<ContextValue> {
        let lower = key.to_ascii_lowercase();
        let i = self
            .entries
            .binary_search_by(|e| (*e.key).cmp(lower.as_str()))
            .ok()?;
        Some(self.entries.remove(i).value)
    }

    /// Every key (lowercase) and value, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ContextValue)> {
        self.entries.iter().map(|e| (&*e.key, &e.value))
    }

    /// How many keys it holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds no key.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Check one value of a key whose documented type is `ty`; for an IP key, the address.
#[inline]
pub(crate) fn check_type(
    key: &str,
    ty: KeyType,
    s: ScalarRef<'_>,
) -> Result<Option<std::net::IpAddr>, ContextError> {
    let ok = match ty {
        KeyType::Ip => {
            if let Some(ip) = s.ip() {
                return Ok(Some(ip));
            }
            false
        }
        KeyType::Bool => s.boolean().is_some(),
        KeyType::Numeric => s.number().is_some(),
        KeyType::Date => s.timestamp().is_some(),
        KeyType::String => true,
    };
    if ok {
        Ok(None)
    } else {
        Err(refused(key, ty, s))
    }
}

/// How a non-finite number prints (as `f64`'s `Display` does): written out here so that the WebAssembly module
/// carries no float formatting (about 15 KB) for this one message.
fn non_finite(n: f64) -> &'static str {
    if n.is_nan() {
        "NaN"
    } else if n > 0.0 {
        "inf"
    } else {
        "-inf"
    }
}

/// Why a list was refused for `key`, a key with a documented type: each is single-valued.
#[cold]
pub(crate) fn listed(key: &str) -> ContextError {
    ContextError {
        key: key.to_string(),
        message: "takes one value, not a list (AWS sends one value for this key)".into(),
    }
}

/// Why [`check_type`] refused `s`.
#[cold]
fn refused(key: &str, ty: KeyType, s: ScalarRef<'_>) -> ContextError {
    let what = match ty {
        // A CIDR is not a request value; say so precisely.
        KeyType::Ip if matches!(s, ScalarRef::String(t) if parse_cidr(t).is_ok()) => {
            "a single IP address (a request comes from one address, not a range)"
        }
        KeyType::Ip => "an IP address; write for example `203.0.113.7` or `2001:db8::7`",
        KeyType::Bool => "a boolean; write `true` or `false`",
        KeyType::Numeric => "a number",
        KeyType::Date => "a date; write ISO 8601 such as `2024-03-01T12:00:00Z` or epoch seconds",
        KeyType::String => "text",
    };
    ContextError {
        key: key.to_string(),
        message: format!("`{}` is not {what}", s.text()),
    }
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
    /// The condition keys and their values.
    pub context: Context,
}

impl Request {
    /// A request for `action` on `resource`, with no principal and an empty context.
    pub fn new(action: &str, resource: &str) -> Self {
        Request {
            action: action.to_string(),
            resource: resource.to_string(),
            ..Request::default()
        }
    }

    /// The same request, made by `arn`.
    pub fn principal(mut self, arn: &str) -> Self {
        self.principal = Some(arn.to_string());
        self
    }

    /// The same request, with `context`.
    pub fn context(mut self, context: Context) -> Self {
        self.context = context;
        self
    }

    /// Whether the action is `service:ActionName` and the resource `*` or an ARN (`shape`'s rules); the context
    /// was checked as it was built. The decisions refuse a request that fails this check.
    ///
    /// ```
    /// use iamgate::Request;
    /// assert!(Request::new("s3:GetObject", "arn:aws:s3:::b/k").check().is_ok());
    /// let e = Request::new(" s3:GetObject", "arn:aws:s3:::b/k").check().unwrap_err();
    /// assert_eq!(e.to_string(), "action ` s3:GetObject` is not `service:ActionName` (ASCII letters, digits, `-` and `_`, no wildcard, no space)");
    /// ```
    pub fn check(&self) -> Result<(), ContextError> {
        check_shape(&self.action, &self.resource)
    }

    /// The principal's account: the ARN's account field, or a bare 12-digit account id.
    pub fn principal_account(&self) -> Option<&str> {
        let p = self.principal.as_deref()?;
        crate::policy::arn::account(p).or_else(|| is_account_id(p).then_some(p))
    }

    /// The resource's account: `resource_account`, else the ARN's, else the principal's (docs/FORMATS.md §1).
    pub fn resource_account(&self) -> Option<&str> {
        self.resource_account
            .as_deref()
            .or_else(|| crate::policy::arn::account(&self.resource))
            .or_else(|| self.principal_account())
    }
}

/// Whether `s` is an AWS account id: twelve digits.
pub(crate) fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

/// A context value borrowed from the caller: text as it arrived, typed when a condition reads it (a `"true"`
/// is a boolean for `Bool`, a number for `NumericEquals`, text for `StringEquals`, as [`Scalar::String`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueRef<'a> {
    /// A single value, as text.
    One(&'a str),
    /// A multivalued key.
    Many(&'a [&'a str]),
}

impl<'a> From<&'a str> for ValueRef<'a> {
    fn from(s: &'a str) -> Self {
        ValueRef::One(s)
    }
}

/// A request borrowed from the caller's buffers: what a proxy has at hand. Deciding it
/// ([`crate::PolicySet::decide_ref`]) allocates nothing and copies nothing: keys are matched to the set's
/// condition keys case-insensitively as they are read, and only the values of keys with a documented type
/// (`aws:SourceIp`, `aws:ViaAWSService`, ...) are checked, as [`Context::insert`] checks them. A key given twice
/// (in any case) takes its last value, as [`Context::insert`] does.
///
/// ```
/// use iamgate::{Policy, PolicySet, Decision};
/// use iamgate::context::RequestRef;
/// let p = Policy::parse(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject",
///     "Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}]}"#).unwrap();
/// let set = PolicySet::builder().identity(p).build().unwrap();
/// let req = RequestRef {
///     principal: Some("arn:aws:iam::111122223333:role/R"),
///     action: "s3:GetObject",
///     resource: "arn:aws:s3:::bucket/key",
///     context: &[("aws:SourceIp", "203.0.113.7".into())],
///     ..RequestRef::default()
/// };
/// assert_eq!(set.decide_ref(&req), Ok(Decision::Allow));
/// let bad = RequestRef { context: &[("aws:SourceIp", "203.0.113.0/24".into())], ..req };
/// assert!(set.decide_ref(&bad).is_err());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestRef<'a> {
    /// The calling principal's ARN, if known.
    pub principal: Option<&'a str>,
    /// `service:ActionName`.
    pub action: &'a str,
    /// The resource ARN (or `*`).
    pub resource: &'a str,
    /// The resource's account when the ARN has none.
    pub resource_account: Option<&'a str>,
    /// Condition keys (any case) and their values.
    pub context: &'a [(&'a str, ValueRef<'a>)],
}

impl<'a> RequestRef<'a> {
    /// The last value given for `lower` (an already-lowercase key), compared case-insensitively.
    pub fn get_lower(&self, lower: &str) -> Option<&'a ValueRef<'a>> {
        let context: &'a [(&'a str, ValueRef<'a>)] = self.context;
        context
            .iter()
            .rev()
            .find(|(k, _)| eq_lower(k.as_bytes(), lower.as_bytes()))
            .map(|(_, v)| v)
    }

    /// The same request, owned and checked: for `explain`, or to keep it.
    pub fn to_request(&self) -> Result<Request, ContextError> {
        let mut context = Context::new();
        for (k, v) in self.context {
            let value = match v {
                ValueRef::One(s) => ContextValue::One(Scalar::from(*s)),
                ValueRef::Many(vs) => {
                    ContextValue::Many(vs.iter().map(|s| Scalar::from(*s)).collect())
                }
            };
            context.insert(k, value)?;
        }
        Ok(Request {
            principal: self.principal.map(str::to_string),
            action: self.action.to_string(),
            resource: self.resource.to_string(),
            resource_account: self.resource_account.map(str::to_string),
            context,
        })
    }
}

impl Vars for RequestRef<'_> {
    /// Only single-valued keys can be policy variables (§2.3).
    fn var(&self, key: &str) -> Option<&str> {
        match self.get_lower(key)? {
            ValueRef::One(s) => Some(s),
            ValueRef::Many(_) => None,
        }
    }
}

/// The values of one context key as the evaluator reads them, from a [`Context`] or a [`RequestRef`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum Values<'a> {
    Owned(&'a [Scalar]),
    Text(&'a [&'a str]),
}

impl<'a> Values<'a> {
    pub fn of(v: &'a ValueRef<'a>) -> Values<'a> {
        match v {
            ValueRef::One(s) => Values::Text(std::slice::from_ref(s)),
            ValueRef::Many(vs) => Values::Text(vs),
        }
    }

    pub fn len(self) -> usize {
        match self {
            Values::Owned(v) => v.len(),
            Values::Text(v) => v.len(),
        }
    }

    pub fn get(self, i: usize) -> Option<ScalarRef<'a>> {
        match self {
            Values::Owned(v) => v.get(i).map(Scalar::as_ref),
            Values::Text(v) => v.get(i).map(|s| ScalarRef::String(s)),
        }
    }

    pub fn iter(self) -> impl Iterator<Item = ScalarRef<'a>> {
        (0..self.len()).filter_map(move |i| self.get(i))
    }

    /// The only value, when there is exactly one.
    pub fn one(self) -> Option<ScalarRef<'a>> {
        if self.len() == 1 { self.get(0) } else { None }
    }
}

/// A present context key as the evaluator reads it: its values and, for a single IP value of a key documented
/// as an IP, the address parsed at ingest.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Found<'a> {
    pub values: Values<'a>,
    // INVARIANT: `Some` only when `values` is one string whose `parse_ip` is this address.
    pub ip: Option<std::net::IpAddr>,
}

impl<'a> Found<'a> {
    /// The value, when it is exactly one string.
    #[inline]
    pub fn one_str(self) -> Option<&'a str> {
        match self.values {
            Values::Text([s]) => Some(s),
            Values::Owned([Scalar::String(s)]) => Some(s),
            _ => None,
        }
    }

    pub fn entry(e: &'a Entry) -> Found<'a> {
        Found {
            values: Values::Owned(e.value.as_slice()),
            ip: e.ip,
        }
    }
}

/// Why the action or the resource of a request is refused, if one is ([`crate::shape`]'s rules): an error naming
/// [`crate::shape::ACTION`] or [`crate::shape::RESOURCE`] as its key.
#[cold]
pub(crate) fn check_shape(action: &str, resource: &str) -> Result<(), ContextError> {
    if !crate::shape::action_ok(action) {
        return Err(ContextError {
            key: crate::shape::ACTION.into(),
            message: format!(
                "`{}` is not `service:ActionName` (ASCII letters, digits, `-` and `_`, no wildcard, no space)",
                crate::unicase::escaped(action)
            ),
        });
    }
    if !crate::shape::resource_ok(resource) {
        return Err(ContextError {
            key: crate::shape::RESOURCE.into(),
            message: format!(
                "`{}` is neither `*` nor an ARN (`arn:partition:service:region:account:resource`)",
                crate::unicase::escaped(resource)
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_keys_list_agrees_with_the_match() {
        for &(k, ty) in KNOWN_KEYS {
            assert_eq!(known_key_type(k), Some(ty), "{k}");
            assert_eq!(k, k.to_ascii_lowercase());
        }
        assert_eq!(known_key_type("aws:principaltag/x"), None);
    }

    /// A [`Folded`] key recognises exactly the texts equal to it in ASCII case, past the kept words too, and the
    /// hash of a [`KeyText`] is the same in any case: random keys of every length from 0 to 72 over letters, the
    /// bytes that differ from a letter by `0x20` only (`@`, `[`, `` ` ``, `{`, DEL, `_`), digits and non-ASCII.
    #[test]
    fn folded_keys_match_exactly_the_case_variants() {
        let alphabet: Vec<u8> = b"aAzZmM:/_@[`{\x7f09-"
            .iter()
            .copied()
            .chain([0x7f, 0xc1, 0xe1, 0xff])
            .collect();
        let mut next = crate::xorshift(0x9e37_79b9_7f4a_7c15);
        for len in 0..=72 {
            for _ in 0..150 {
                let s: Vec<u8> = (0..len)
                    .map(|_| alphabet[next() as usize % alphabet.len()])
                    .collect();
                let lower = s.to_ascii_lowercase();
                let folded = Folded::of(&lower);
                assert!(folded.is(&KeyText::of(&s), &lower), "{s:?}");
                assert_eq!(KeyText::of(&s).hash(), folded.hash(), "{s:?}");
                // One byte changed: recognised exactly when the change is a case change.
                if len > 0 {
                    let mut t = s.clone();
                    let i = next() as usize % len;
                    t[i] = alphabet[next() as usize % alphabet.len()];
                    let want = t.eq_ignore_ascii_case(&s);
                    assert_eq!(folded.is(&KeyText::of(&t), &lower), want, "{s:?} vs {t:?}");
                }
                // One byte more or less never matches.
                let mut longer = s.clone();
                longer.push(b'a');
                assert!(!folded.is(&KeyText::of(&longer), &lower));
                if let Some((_, shorter)) = s.split_last() {
                    assert!(!folded.is(&KeyText::of(shorter), &lower));
                }
            }
        }
    }

    /// Every global key of the catalog, in any ASCII case, is entered under the catalog's own lowercase text
    /// (borrowed, no copy) and found by `get` in any case; any other key, a global key with a character more or
    /// less, and a non-ASCII key are owned lowercase copies.
    #[test]
    fn cold5_global_keys_are_entered_by_the_catalogs_text() {
        for g in crate::keys::GLOBAL_KEYS {
            for written in [g.name.to_string(), g.lower.to_ascii_uppercase()] {
                let e = lower_key(&written).0;
                assert!(matches!(e, Cow::Borrowed(_)), "{written}");
                assert_eq!(e, g.lower);
            }
            for other in [format!("{}x", g.name), g.name.get(1..).unwrap().to_string()] {
                let e = lower_key(&other).0;
                assert!(matches!(e, Cow::Owned(_)), "{other}");
                assert_eq!(e, other.to_ascii_lowercase());
            }
        }
        for other in [
            "sagemaker:UserProfileName",
            "AWS:SourceIpÉ",
            "aws:PrincipalTag/Team",
            "",
        ] {
            let e = lower_key(other).0;
            assert!(matches!(e, Cow::Owned(_)), "{other}");
            assert_eq!(e, other.to_ascii_lowercase());
        }
        let long = "a".repeat(200);
        assert_eq!(lower_key(&long.to_ascii_uppercase()).0, long);
        let mut c = Context::new();
        c.insert(
            "AWS:SourceVPCE",
            ContextValue::One(Scalar::String("vpce-1".into())),
        )
        .unwrap();
        c.insert("Team:Name", ContextValue::One(Scalar::String("x".into())))
            .unwrap();
        assert!(c.get("aws:sourcevpce").is_some() && c.get("aws:SourceVpce").is_some());
        assert!(c.get("team:name").is_some());
        let keys: Vec<&str> = c.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["aws:sourcevpce", "team:name"]);
    }

    /// The index of global keys answers as the catalog's `match` did: each key in any case gives its lowercase
    /// text, the hash of that text and its checked type; a key that shares a global key's length, first and last
    /// eight bytes (so its hash) but not its middle is not one, nor are keys a byte off.
    #[test]
    fn json6_one_lookup_gives_a_global_keys_text_hash_and_type() {
        let mixed = |s: &str| -> String {
            s.chars()
                .enumerate()
                .map(|(i, c)| {
                    if i % 2 == 0 {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    }
                })
                .collect()
        };
        for g in crate::keys::GLOBAL_KEYS {
            for written in [
                g.name.to_string(),
                g.lower.to_string(),
                g.lower.to_ascii_uppercase(),
                mixed(g.lower),
            ] {
                let (lower, hash, ty) = lower_key(&written);
                assert!(
                    matches!(lower, Cow::Borrowed(l) if l == g.lower),
                    "{written}"
                );
                assert_eq!(hash, text_hash(g.lower.as_bytes()), "{written}");
                assert_eq!(ty, known_key_type(g.lower), "{written}");
                assert_eq!(ty.is_some(), g.checked, "{written}");
            }
            if g.lower.len() > 16 {
                // The same length, first and last eight bytes: the same hash, another key.
                let mut middle = g.lower.as_bytes().to_vec();
                middle[8] = if middle[8] == b'x' { b'y' } else { b'x' };
                let other = String::from_utf8(middle).unwrap();
                assert_eq!(text_hash(other.as_bytes()), text_hash(g.lower.as_bytes()));
                let (lower, hash, ty) = lower_key(&other);
                assert!(matches!(lower, Cow::Owned(_)), "{other}");
                assert_eq!((hash, ty), (text_hash(other.as_bytes()), None), "{other}");
            }
        }
        for other in [
            "aws:SourceIp ",
            "aws:SourceI",
            "aws_sourceip",
            "aws:sourceıp",
            "",
            "s3:prefix",
            "aws:PrincipalTag/x",
        ] {
            let (lower, hash, ty) = lower_key(other);
            assert!(matches!(lower, Cow::Owned(_)), "{other}");
            assert_eq!(lower, other.to_ascii_lowercase());
            assert_eq!(
                (hash, ty),
                (text_hash(other.to_ascii_lowercase().as_bytes()), None),
                "{other}"
            );
        }
        // An IP key's address is the one its check parsed.
        let mut c = Context::new();
        c.insert("AWS:SOURCEIP", ContextValue::One("203.0.113.7".into()))
            .unwrap();
        assert_eq!(c.entries[0].ip, "203.0.113.7".parse().ok());
        c.insert(
            "aws:vpcsourceip",
            ContextValue::One("::ffff:10.0.0.1".into()),
        )
        .unwrap();
        assert_eq!(c.entries[1].ip, "10.0.0.1".parse().ok());
        c.insert("aws:SourceVpc", ContextValue::One("vpc-1".into()))
            .unwrap();
        assert!(c.entries.iter().filter(|e| e.ip.is_some()).count() == 2);
    }

    /// `settle` (insertion for up to 16 entries, the stable sort above) leaves what inserts one by one leave, for
    /// every count of keys from 0 to 40 drawn with repeats in several cases and orders, on both sides of the
    /// threshold, with and without keys already present.
    #[test]
    fn json7_settle_is_insert_in_bulk_on_both_sides_of_the_threshold() {
        let one = |s: String| ContextValue::One(Scalar::String(s));
        let names = [
            "a:k",
            "B:K",
            "b:k",
            "c:x",
            "A:K",
            "d:long:key:name",
            "C:X",
            "e:e",
        ];
        for n in 0..=40usize {
            for stride in [1usize, 3, 5] {
                for start in [0usize, 2] {
                    let pairs: Vec<(&str, String)> = (0..n)
                        .map(|i| {
                            let k = names
                                .get((start + i * stride) % names.len())
                                .copied()
                                .unwrap_or("z:z");
                            (k, format!("{i}"))
                        })
                        .collect();
                    for seed in [None, Some("c:x")] {
                        let mut by_insert = Context::new();
                        let mut bulk = Context::new();
                        if let Some(k) = seed {
                            by_insert.insert(k, one("seed".into())).unwrap();
                            bulk.insert(k, one("seed".into())).unwrap();
                        }
                        for (k, v) in &pairs {
                            by_insert.insert(k, one(v.clone())).unwrap();
                        }
                        bulk.extend(pairs.iter().map(|(k, v)| (*k, one(v.clone()))))
                            .unwrap();
                        assert_eq!(bulk, by_insert, "{n} {stride} {start} {seed:?}");
                        let mut pushed = Context::new();
                        for (k, v) in &pairs {
                            pushed.push_unsorted(k, one(v.clone())).unwrap();
                        }
                        pushed.settle();
                        if seed.is_none() {
                            assert_eq!(pushed, by_insert, "{n} {stride} {start}");
                        }
                    }
                }
            }
        }
    }

    /// `extend` keeps the keys sorted and the last value of a repeated key (in any case), like inserts one by one,
    /// for keys in every order; a refused value stops it with that key's error.
    #[test]
    fn extend_is_insert_in_bulk() {
        let one = |s: &str| ContextValue::One(Scalar::String(s.to_string()));
        let pairs = [
            ("b:k", "1"),
            ("A:K", "2"),
            ("c:k", "3"),
            ("a:k", "4"),
            ("B:k", "5"),
        ];
        let mut by_insert = Context::new();
        for (k, v) in pairs {
            by_insert.insert(k, one(v)).unwrap();
        }
        let mut bulk = Context::new();
        bulk.insert("c:k", one("0")).unwrap();
        bulk.extend(pairs.iter().map(|(k, v)| (*k, one(v))))
            .unwrap();
        assert_eq!(bulk, by_insert);
        assert_eq!(bulk.get("a:K"), Some(&one("4")));
        let mut refused = Context::new();
        let e = refused
            .extend([
                ("x:k", one("1")),
                ("aws:SourceIp", one("nope")),
                ("y:k", one("2")),
            ])
            .unwrap_err();
        assert_eq!(e.key, "aws:SourceIp");
        assert_eq!(refused.len(), 1);
        assert!(refused.get("X:K").is_some());
        // Every check of `insert` applies: a list for a single-valued key, a number that is not finite.
        let list = ContextValue::Many(vec![Scalar::String("203.0.113.7".into())]);
        assert!(Context::new().extend([("aws:SourceIp", list)]).is_err());
        let nan = ContextValue::One(Scalar::Number(f64::NAN, "NaN".into()));
        assert!(Context::new().extend([("test:n", nan)]).is_err());
    }
}
