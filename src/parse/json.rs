//! A JSON parser (nom) that keeps the byte span of every value and object key.
//!
//! Unlike serde_json it keeps duplicate keys (IAM rejects them, and the validator must point at both places)
//! and reports errors with a byte offset and what would be valid there.
//!
//! # Untrusted input
//!
//! [`parse`] is strict RFC 8259 and bounded: it rejects documents longer than
//! [`Limits::max_document_bytes`] before looking at them, and nesting deeper than [`Limits::max_depth`] at the
//! offending `[` or `{`. The parser itself does not recurse (open arrays and objects live on a heap stack), so no
//! input can overflow the call stack while parsing; it runs in time linear in the input. The tree lives in an
//! [`Arena`] (each container's children one slice of it), so dropping it walks nothing. The derived `PartialEq`
//! and `Debug` of [`Node`] do recurse, once per level: `max_depth` is what bounds them, so do not compare or
//! print a tree parsed with a limit in the thousands.

use crate::limits::Limits;
use crate::span::Span;
use bumpalo::Bump;
use bumpalo::collections::Vec as BVec;
use nom::branch::alt;
use nom::bytes::complete::{tag, take_while_m_n};
use nom::combinator::value;
use nom::error::{ErrorKind, ParseError};
use nom::sequence::preceded;
use nom::{IResult, Parser};

/// One JSON value with its span in the source text. The tree lives in an [`Arena`]: a node is two words of
/// span and a tag with a reference, copied freely, and dropping it frees nothing (the arena frees the tree at once).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Node<'a> {
    /// Where the value is written.
    pub span: Span,
    /// The value.
    pub value: Value<'a>,
}

/// A JSON value; its items and members are [`Node`]s, with their spans.
///
/// The tag is a whole word (`repr(u64)`, no larger: the payload is two words either way), so that a node is
/// written as three words rather than its tag and `Bool`'s byte and padding in pieces.
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(u64)]
pub enum Value<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// The number exactly as written (validated JSON number grammar).
    Number(&'a str),
    /// The unescaped string: a slice of the text when it has no escapes, else unescaped into the arena.
    String(&'a str),
    /// Items in source order.
    Array(&'a [Node<'a>]),
    /// Members in source order; duplicates are kept.
    Object(&'a [Member<'a>]),
}

/// One `"key": value` of an object.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Member<'a> {
    /// The unescaped key.
    pub key: &'a str,
    /// Where the key (with its quotes) is written.
    pub key_span: Span,
    /// The value.
    pub value: Node<'a>,
}

/// Where [`parse`] puts a tree: each array's items and each object's members as one slice, and the unescaped text
/// of strings that hold an escape. A tree is one or a few blocks of memory however many containers it has, and
/// it goes with the arena, without a walk. [`with_parsed`] reuses one arena per thread.
#[derive(Default)]
pub struct Arena(bumpalo::Bump);

impl Arena {
    /// An empty arena; its first block is allocated by the first tree parsed into it.
    pub fn new() -> Arena {
        Arena::default()
    }
}

/// The most bytes [`with_parsed`] keeps in its thread's arena between calls: a larger tree's blocks are freed.
const KEEP: usize = 1 << 20;

thread_local! {
    /// The arena [`with_parsed`] reuses; taken out while a tree lives in it, so a nested call makes its own.
    static ARENA: std::cell::Cell<Option<Arena>> = const { std::cell::Cell::new(None) };
}

/// [`parse`] into this thread's reused arena (cleared first), handing the result to `f`: after the first few
/// documents a tree costs no allocation at all. The tree lives only as long as `f` runs.
pub fn with_parsed<R>(
    text: &str,
    limits: &Limits,
    f: impl for<'t> FnOnce(Result<Node<'t>, JsonError>) -> R,
) -> R {
    let mut arena = ARENA
        .try_with(std::cell::Cell::take)
        .ok()
        .flatten()
        .unwrap_or_default();
    arena.0.reset();
    let out = f(parse(text, &arena, limits));
    if arena.0.allocated_bytes() <= KEEP {
        // A thread being torn down keeps nothing.
        let _ = ARENA.try_with(|a| a.set(Some(arena)));
    }
    out
}

impl Value<'_> {
    /// What kind of JSON value this is, for messages: `null`, `boolean`, `number`, `string`, `array` or `object`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }
}

impl<'a> Node<'a> {
    /// What kind of JSON value this is, for messages: `null`, `boolean`, `number`, `string`, `array` or `object`.
    pub fn kind_name(&self) -> &'static str {
        self.value.kind_name()
    }

    /// The unescaped text, if this is a string.
    pub fn as_str(&self) -> Option<&'a str> {
        match self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The value, if this is `true` or `false`.
    pub fn as_bool(&self) -> Option<bool> {
        match self.value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The number exactly as written, if this is a number.
    #[cfg(any(test, feature = "internals"))]
    pub fn as_number(&self) -> Option<&'a str> {
        match self.value {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// The elements, if this is an array.
    pub fn as_array(&self) -> Option<&'a [Node<'a>]> {
        match self.value {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The members in source order, duplicates included, if this is an object.
    pub fn as_object(&self) -> Option<&'a [Member<'a>]> {
        match self.value {
            Value::Object(members) => Some(members),
            _ => None,
        }
    }

    /// The value of the first member named `key` (compared exactly, after unescaping), if this is an object.
    pub fn get(&self, key: &str) -> Option<&'a Node<'a>> {
        self.as_object()?
            .iter()
            .find(|m| m.key == key)
            .map(|m| &m.value)
    }
}

/// An error with the byte offset where the text stops being valid JSON, and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct JsonError {
    /// Byte offset into the text of the problem.
    pub offset: usize,
    /// What was found and what would be valid there: lowercase, one line.
    pub message: String,
    /// Guidance on how to fix it, when there is more to say.
    pub help: Option<String>,
}

impl JsonError {
    /// 1-based line and column (in characters) of the error within `text`, the text that was parsed.
    pub fn line_col(&self, text: &str) -> (usize, usize) {
        crate::span::line_col(text, self.offset)
    }
}

/// Parses one JSON document (RFC 8259), keeping the span of every value and key, and every duplicate key.
pub fn parse<'a>(text: &'a str, arena: &'a Arena, limits: &Limits) -> Result<Node<'a>, JsonError> {
    if text.len() > limits.max_document_bytes {
        return Err(JsonError {
            offset: 0,
            message: format!(
                "document is {} bytes, more than the limit of {} bytes",
                text.len(),
                limits.max_document_bytes
            ),
            help: None,
        });
    }
    if text.starts_with('\u{feff}') {
        // Editors on Windows save UTF-8 with this mark; RFC 8259 §8.1 does not allow it, so name it rather than
        // call it an unexpected character.
        return Err(JsonError {
            offset: 0,
            message:
                "the text starts with a UTF-8 byte order mark (U+FEFF), which JSON does not allow"
                    .into(),
            help: Some("save the file as UTF-8 without a byte order mark".into()),
        });
    }
    let err = match document(text, &arena.0, limits.max_depth) {
        Ok((end, node)) if end >= text.len() => return Ok(node),
        Ok((end, _)) => PErr::new(
            from(text, end),
            "trailing characters after the JSON value".to_owned(),
            Some("a document holds exactly one JSON value".to_owned()),
        ),
        Err(nom::Err::Error(e) | nom::Err::Failure(e)) => e,
        // Complete-input parsers never ask for more; `Finish::finish` would panic here, so say something instead.
        Err(nom::Err::Incomplete(_)) => PErr::new("", "unexpected end of input".to_owned(), None),
    };
    Err(err.into_json_error(text))
}

// ---------------------------------------------------------------------------------------------------------------
// Errors inside the parser

/// The parser's error: where (as the length of the input left at that point) and what.
#[derive(Debug)]
struct PErr {
    rest_len: usize,
    problem: Problem,
}

#[derive(Debug)]
enum Problem {
    /// A combinator did not match. Cheap on purpose: `opt` and `alt` make and drop these on the hot path.
    Nom(ErrorKind),
    /// A committed error for the user.
    Message {
        message: String,
        help: Option<String>,
    },
}

impl PErr {
    fn new(at: &str, message: String, help: Option<String>) -> Self {
        PErr {
            rest_len: at.len(),
            problem: Problem::Message { message, help },
        }
    }

    fn into_json_error(self, text: &str) -> JsonError {
        let offset = text.len().saturating_sub(self.rest_len);
        match self.problem {
            Problem::Message { message, help } => JsonError {
                offset,
                message,
                help,
            },
            // Every path that can fail is committed with a message; this is a fallback, not an expected outcome.
            Problem::Nom(kind) => JsonError {
                offset,
                message: format!("invalid JSON ({})", kind.description()),
                help: None,
            },
        }
    }
}

impl ParseError<&str> for PErr {
    fn from_error_kind(input: &str, kind: ErrorKind) -> Self {
        PErr {
            rest_len: input.len(),
            problem: Problem::Nom(kind),
        }
    }

    fn append(_: &str, _: ErrorKind, other: Self) -> Self {
        other
    }
}

type PResult<'a, T> = IResult<&'a str, T, PErr>;

/// A committed failure at `at`.
fn fail(at: &str, message: String, help: Option<&str>) -> nom::Err<PErr> {
    nom::Err::Failure(PErr::new(at, message, help.map(str::to_owned)))
}

const A_VALUE: &str = "a value (a string, number, object, array, `true`, `false` or `null`)";

const ESCAPES: &str = r#"\" \\ \/ \b \f \n \r \t \uXXXX"#;

/// Characters that look like whitespace or are invisible, shown by code point rather than as themselves.
fn is_invisible(c: char) -> bool {
    use crate::unicase::{is_control, is_whitespace};
    is_control(c) || is_whitespace(c) || matches!(c, '\u{feff}' | '\u{200b}'..='\u{200f}')
}

/// A letter or digit of a word in a message ([`word`], and the help for an unquoted key), in place of
/// `char::is_alphanumeric`, whose Alphabetic and Numeric tables would be in the WebAssembly module only for this
/// (benches/README.md, "Size, seventh pass"). The same as `is_alphanumeric` for ASCII, Latin-1 and the General
/// Punctuation block (curly quotes, dashes, the ellipsis: what text pasted from a document brings); any other
/// character that shows (not [`is_invisible`]) counts, so a non-ASCII symbol elsewhere is part of the word a
/// message quotes rather than shown alone. Cold: only a message asks, from the parser's error paths.
#[cold]
fn is_wordish(c: char) -> bool {
    match c {
        '\0'..='\x7f' => c.is_ascii_alphanumeric(),
        '\u{80}'..='\u{bf}' => matches!(c, 'ª' | '²' | '³' | 'µ' | '¹' | 'º' | '¼'..='¾'),
        '×' | '÷' | '\u{2000}'..='\u{206f}' => false,
        _ => !is_invisible(c),
    }
}

/// One character for a message: in backticks, or by code point when it would not show.
fn show_char(c: char) -> String {
    if is_invisible(c) {
        format!("U+{:04X}", u32::from(c))
    } else {
        format!("`{c}`")
    }
}

/// The run of word-like characters at the start of `at` (at most 24), so messages show `True`, not `T`.
fn word(at: &str) -> &str {
    let mut end = 0;
    for (k, c) in at.char_indices().take(24) {
        if !(is_wordish(c) || matches!(c, '_' | '.' | '+' | '-')) {
            break;
        }
        end = k + c.len_utf8();
    }
    at.get(..end).unwrap_or("")
}

/// What the input holds at `at`, for "found ..." in messages.
fn found(at: &str) -> String {
    let Some(c) = at.chars().next() else {
        return "end of input".to_owned();
    };
    if c == '"' {
        return "a string".to_owned();
    }
    match word(at) {
        "" => show_char(c),
        w => format!("`{w}`"),
    }
}

/// Guidance for the usual ways a value goes wrong at `at`.
fn hint(at: &str) -> Option<&'static str> {
    let c = at.chars().next()?;
    let w = word(at);
    let is = |s: &str| w.eq_ignore_ascii_case(s);
    if is("true") || is("false") || is("null") {
        Some("JSON literals are lowercase: `true`, `false` and `null`")
    } else if is("nan") || is("infinity") || is("inf") {
        Some("JSON has no NaN or infinite numbers")
    } else if c == '\'' {
        Some("JSON strings use double quotes `\"`")
    } else if c == '.' {
        Some("a number needs a digit before the decimal point, as in `0.5`")
    } else if c == '+' {
        Some("a number cannot start with `+`")
    } else if c == '/' || c == '#' {
        Some("JSON has no comments")
    } else if is_invisible(c) && c != ' ' {
        Some("JSON whitespace is only space, tab, line feed and carriage return")
    } else {
        None
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The grammar

/// Skips JSON whitespace from byte `n` of `b`: space, tab, line feed and carriage return only (RFC 8259 §2).
/// Returns the index of the first other byte, or the length.
#[inline(always)]
fn ws(b: &[u8], mut n: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = b.get(n) {
        n += 1;
        // Indentation of pretty-printed documents: eight spaces at a time.
        while b.get(n..n + 8) == Some(b"        ") {
            n += 8;
        }
    }
    n
}

/// `i` without its first byte, which the caller has seen is ASCII.
#[inline]
fn skip1(i: &str) -> &str {
    i.get(1..).unwrap_or("")
}

/// `text[from..to]`, where both are char boundaries (the caller's INVARIANT). Two one-sided slices, each checking one
/// boundary, stay inline where `get(from..to)` was a call.
#[inline(always)]
fn slice(text: &str, from: usize, to: usize) -> &str {
    text.get(..to).and_then(|t| t.get(from..)).unwrap_or("")
}

/// The text from byte `at` on, for an error or a nom parser there. Every position the parser stops at is an ASCII
/// byte's or the end, so a char boundary.
#[inline]
fn from(text: &str, at: usize) -> &str {
    text.get(at..).unwrap_or("")
}

/// An open array or object: where it starts in the text, and where its finished children start in the
/// shared scratch vector. Children are copied into an exactly sized slice of the arena when the container closes.
enum Frame<'a> {
    Array {
        start: usize,
        first: usize,
    },
    Object {
        start: usize,
        first: usize,
        /// The key of the member whose value is being parsed.
        key: &'a str,
        key_span: Span,
    },
}

/// The parser's result: a value and the byte index after it, or a failure.
type Scan<T> = Result<(usize, T), nom::Err<PErr>>;

/// One JSON value with the whitespace around it; returns the byte index after them, and the caller checks that
/// nothing follows.
///
/// Arrays and objects are parsed with an explicit stack rather than by recursion, so that the depth limit is the
/// only bound on nesting and no input can exhaust the call stack. The structure is read byte by byte at indices
/// into the text (every token that ends a step is ASCII, so each index is a char boundary); a string is sliced from
/// the text once, at its end.
fn document<'a>(text: &'a str, arena: &'a Bump, max_depth: usize) -> Scan<Node<'a>> {
    let b = text.as_bytes();
    // Scratch in the arena too, with room for a typical policy up front so that it rarely grows (a vector that
    // grows leaves its old block in the arena: at most as much again, freed with the tree).
    let mut stack: BVec<'a, Frame<'a>> = BVec::with_capacity_in(8, arena);
    let mut nodes: BVec<'a, Node<'a>> = BVec::with_capacity_in(16, arena);
    let mut members: BVec<'a, Member<'a>> = BVec::with_capacity_in(14, arena);
    let mut pos = ws(b, 0);
    'value: loop {
        // INVARIANT: `pos` is where a value should start, after any whitespace.
        let start = pos;
        let mut node = match b.get(pos) {
            Some(b'"') => {
                let (end, s) = string(text, arena, pos)?;
                pos = end;
                Node {
                    span: Span::new(start, end),
                    value: Value::String(s),
                }
            }
            Some(&open @ (b'[' | b'{')) => {
                if stack.len() >= max_depth {
                    return Err(fail(
                        from(text, pos),
                        format!(
                            "`{}` nests arrays and objects {} deep, more than the limit of {max_depth}",
                            char::from(open),
                            stack.len().saturating_add(1),
                        ),
                        None,
                    ));
                }
                let inner = ws(b, pos + 1);
                if open == b'[' {
                    if b.get(inner) == Some(&b']') {
                        pos = inner + 1;
                        Node {
                            span: Span::new(start, pos),
                            value: Value::Array(&[]),
                        }
                    } else {
                        stack.push(Frame::Array {
                            start,
                            first: nodes.len(),
                        });
                        pos = inner;
                        continue 'value;
                    }
                } else if b.get(inner) == Some(&b'}') {
                    pos = inner + 1;
                    Node {
                        span: Span::new(start, pos),
                        value: Value::Object(&[]),
                    }
                } else {
                    let (after, (key, key_span)) =
                        member_key(text, arena, inner, "a string key or `}` after `{`")?;
                    stack.push(Frame::Object {
                        start,
                        first: members.len(),
                        key,
                        key_span,
                    });
                    pos = after;
                    continue 'value;
                }
            }
            Some(b'-' | b'0'..=b'9') => {
                let end = number(text, pos)?;
                pos = end;
                Node {
                    span: Span::new(start, end),
                    value: Value::Number(slice(text, start, end)),
                }
            }
            _ => {
                let i = from(text, pos);
                let (rest, value) = literal(i).map_err(|_| {
                    fail(
                        i,
                        format!("expected {A_VALUE}, found {}", found(i)),
                        hint(i),
                    )
                })?;
                // A literal is ASCII: the index after it is the text's length less what is left.
                pos = text.len().saturating_sub(rest.len());
                Node {
                    span: Span::new(start, pos),
                    value,
                }
            }
        };
        // `node` is complete: give it to the innermost open container, closing containers as they end.
        loop {
            pos = ws(b, pos);
            let Some(frame) = stack.last_mut() else {
                return Ok((pos, node));
            };
            match frame {
                Frame::Array { start, first } => {
                    nodes.push(node);
                    match b.get(pos) {
                        Some(b',') => {
                            pos = ws(b, pos + 1);
                            if b.get(pos) == Some(&b']') {
                                return Err(fail(
                                    from(text, pos),
                                    "expected a value after `,`, found `]`".to_owned(),
                                    Some("JSON does not allow a trailing comma"),
                                ));
                            }
                            continue 'value;
                        }
                        Some(b']') => {
                            let (start, first) = (*start, *first);
                            stack.pop();
                            pos += 1;
                            // INVARIANT: `first <= nodes.len()`: outer containers' children sit below `first`
                            // and are not touched while this one is open. `min` keeps it panic-free regardless.
                            let first = first.min(nodes.len());
                            let items = arena.alloc_slice_copy(nodes.get(first..).unwrap_or(&[]));
                            nodes.truncate(first);
                            node = Node {
                                span: Span::new(start, pos),
                                value: Value::Array(items),
                            };
                        }
                        _ => {
                            let i = from(text, pos);
                            return Err(fail(
                                i,
                                format!(
                                    "expected `,` or `]` after an array element, found {}",
                                    found(i)
                                ),
                                None,
                            ));
                        }
                    }
                }
                Frame::Object {
                    start,
                    first,
                    key,
                    key_span,
                } => {
                    members.push(Member {
                        key,
                        key_span: *key_span,
                        value: node,
                    });
                    match b.get(pos) {
                        Some(b',') => {
                            let (after, (k, ks)) =
                                member_key(text, arena, ws(b, pos + 1), "a string key after `,`")?;
                            *key = k;
                            *key_span = ks;
                            pos = after;
                            continue 'value;
                        }
                        Some(b'}') => {
                            let (start, first) = (*start, *first);
                            stack.pop();
                            pos += 1;
                            // INVARIANT: as for arrays, `first <= members.len()`.
                            let first = first.min(members.len());
                            let items = arena.alloc_slice_copy(members.get(first..).unwrap_or(&[]));
                            members.truncate(first);
                            node = Node {
                                span: Span::new(start, pos),
                                value: Value::Object(items),
                            };
                        }
                        _ => {
                            let i = from(text, pos);
                            return Err(fail(
                                i,
                                format!(
                                    "expected `,` or `}}` after an object member, found {}",
                                    found(i)
                                ),
                                None,
                            ));
                        }
                    }
                }
            }
        }
    }
}

/// An object key at byte `at`, the `:` after it and the whitespace after that; `expected` describes the key for
/// errors.
#[inline(always)]
fn member_key<'a>(
    text: &'a str,
    arena: &'a Bump,
    at: usize,
    expected: &str,
) -> Scan<(&'a str, Span)> {
    let b = text.as_bytes();
    if b.get(at) != Some(&b'"') {
        let i = from(text, at);
        let help = match i.chars().next() {
            Some('}') => Some("JSON does not allow a trailing comma"),
            Some(c) if is_wordish(c) || c == '_' => {
                Some("object keys are strings in double quotes")
            }
            _ => hint(i),
        };
        return Err(fail(
            i,
            format!("expected {expected}, found {}", found(i)),
            help,
        ));
    }
    let (end, key) = string(text, arena, at)?;
    let key_span = Span::new(at, end);
    let colon = ws(b, end);
    if b.get(colon) != Some(&b':') {
        let rest = from(text, colon);
        return Err(fail(
            rest,
            format!("expected `:` after an object key, found {}", found(rest)),
            None,
        ));
    }
    Ok((ws(b, colon + 1), (key, key_span)))
}

/// `true`, `false` or `null`.
fn literal(i: &str) -> PResult<'_, Value<'_>> {
    alt((
        value(Value::Bool(true), tag("true")),
        value(Value::Bool(false), tag("false")),
        value(Value::Null, tag("null")),
    ))
    .parse(i)
}

/// The index after the run of ASCII digits at byte `at` of `b`.
#[inline(always)]
fn digits(b: &[u8], mut at: usize) -> usize {
    while let Some(b'0'..=b'9') = b.get(at) {
        at += 1;
    }
    at
}

/// A number (RFC 8259 §6) from byte `start` (a `-` or a digit): `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]?
/// [0-9]+)?`. Returns the index after it; the caller slices it as written.
fn number(text: &str, start: usize) -> Result<usize, nom::Err<PErr>> {
    let b = text.as_bytes();
    let mut at = start;
    if b.get(at) == Some(&b'-') {
        at += 1;
    }
    // A digit the grammar requires at `at`, else the error that names it.
    let need = |at: usize, what: &str| {
        let i = from(text, at);
        fail(i, format!("expected {what}, found {}", found(i)), hint(i))
    };
    at = match b.get(at) {
        Some(b'0') if matches!(b.get(at + 1), Some(b'0'..=b'9')) => {
            let i = from(text, at);
            let n = i
                .bytes()
                .position(|b| !matches!(b, b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-'))
                .unwrap_or(i.len());
            return Err(fail(
                i,
                format!(
                    "leading zero in number `{}`",
                    i.get(..n.min(24)).unwrap_or(i)
                ),
                Some("JSON numbers cannot have leading zeros"),
            ));
        }
        Some(b'0') => at + 1,
        Some(b'1'..=b'9') => digits(b, at + 1),
        _ => return Err(need(at, "a digit after `-`")),
    };
    if b.get(at) == Some(&b'.') {
        at += 1;
        if !matches!(b.get(at), Some(b'0'..=b'9')) {
            return Err(need(at, "a digit after the decimal point"));
        }
        at = digits(b, at);
    }
    if let Some(b'e' | b'E') = b.get(at) {
        at += 1;
        if let Some(b'+' | b'-') = b.get(at) {
            at += 1;
        }
        if !matches!(b.get(at), Some(b'0'..=b'9')) {
            return Err(need(at, "a digit in the exponent"));
        }
        at = digits(b, at);
    }
    Ok(at)
}

/// A string from its opening quote at byte `at` (RFC 8259 §7); borrowed from the text when it has no escapes,
/// else unescaped into the arena. Inlined: called for every key and string value, and the call cost about a third
/// of it.
#[inline(always)]
fn string<'a>(text: &'a str, arena: &'a Bump, at: usize) -> Scan<&'a str> {
    let b = text.as_bytes();
    let body = at + 1;
    let end = body + plain_len(b.get(body..).unwrap_or_default());
    match b.get(end) {
        // INVARIANT: `body` follows a quote and `end` is at one: both char boundaries.
        Some(b'"') => Ok((end + 1, slice(text, body, end))),
        Some(b'\\') => {
            let plain = text.get(body..end).unwrap_or("");
            let (rest, s) = escaped_string(from(text, at), plain, from(text, end))?;
            Ok((text.len().saturating_sub(rest.len()), &*arena.alloc_str(&s)))
        }
        Some(_) => Err(control_char(from(text, end))),
        None => Err(unterminated(from(text, at))),
    }
}

/// The rest of a string that has escapes: `plain` is what came before the first, `i` starts at it.
fn escaped_string<'a>(open: &str, plain: &str, mut i: &'a str) -> PResult<'a, String> {
    let mut out = String::with_capacity(plain.len() + 16);
    out.push_str(plain);
    loop {
        // INVARIANT: `i` starts at the end of input or at the byte that ended a plain run: `"`, `\` or a control
        // character.
        match i.as_bytes().first() {
            Some(b'"') => return Ok((skip1(i), out)),
            Some(b'\\') => {
                let (rest, c) = escape(open, i)?;
                out.push(c);
                i = rest;
            }
            Some(_) => return Err(control_char(i)),
            None => return Err(unterminated(open)),
        }
        let (plain, rest) = split_plain(i);
        out.push_str(plain);
        i = rest;
    }
}

/// Splits `s` before its first `"`, `\` or control character (`< 0x20`), the bytes that end a plain run of string.
#[inline]
fn split_plain(s: &str) -> (&str, &str) {
    let n = plain_len(s.as_bytes());
    // INVARIANT: `n` is the index of an ASCII byte or the length, so a char boundary.
    s.split_at_checked(n).unwrap_or((s, ""))
}

/// The index of the first `"`, `\` or byte below 0x20 in `b`, or its length.
///
/// Strings are most of a policy, so this looks at eight bytes at a time (SWAR). For a word `v`, the high bit of
/// byte k of `(v - ONES * n) & !v & HIGHS` is set when byte k is below `n` (for `n <= 0x80`), and no byte below the
/// first such byte has it set (no borrow reaches it), so the lowest set bit is exact. Two such tests find the three
/// kinds of byte: with bit 1 of every byte flipped, a byte is below 0x21 exactly when it was below 0x20 or was `"`
/// (0x22 becomes 0x20; 0x20, 0x21 and 0x23 become 0x22, 0x23 and 0x21; bytes from 0x24 stay at or above it); `\` is
/// the byte that XORs to zero. The lowest bit of either test is exact, so that of both is. Bytes of multi-byte
/// UTF-8 characters are all >= 0x80 and never match.
#[inline]
fn plain_len(b: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    #[inline]
    fn first_special(word: [u8; 8]) -> Option<usize> {
        let x = u64::from_le_bytes(word);
        let quote_or_control = x ^ (ONES * 0x02);
        let backslash = x ^ (ONES * u64::from(b'\\'));
        let found = ((quote_or_control.wrapping_sub(ONES * 0x21) & !quote_or_control)
            | (backslash.wrapping_sub(ONES) & !backslash))
            & HIGHS;
        // Little-endian: the first byte is the lowest.
        (found != 0).then(|| found.trailing_zeros() as usize / 8)
    }
    let mut chunks = b.chunks_exact(8);
    let mut pos = 0;
    for chunk in chunks.by_ref() {
        let Ok(word) = <[u8; 8]>::try_from(chunk) else {
            break;
        };
        if let Some(k) = first_special(word) {
            return pos + k;
        }
        pos += 8;
    }
    // The last 0-7 bytes, padded with a quote so that "none" comes out as the length.
    let tail = chunks.remainder();
    let mut word = [b'"'; 8];
    for (w, &t) in word.iter_mut().zip(tail) {
        *w = t;
    }
    pos + first_special(word).unwrap_or(tail.len()).min(tail.len())
}

/// One escape, from its backslash (RFC 8259 §7). `open` is the string's opening quote, for "unterminated".
fn escape<'a>(open: &str, i: &'a str) -> PResult<'a, char> {
    let c = match i.as_bytes().get(1) {
        Some(b'"') => '"',
        Some(b'\\') => '\\',
        Some(b'/') => '/',
        Some(b'b') => '\u{8}',
        Some(b'f') => '\u{c}',
        Some(b'n') => '\n',
        Some(b'r') => '\r',
        Some(b't') => '\t',
        Some(b'u') => return unicode_escape(i),
        None => return Err(unterminated(open)),
        Some(_) => {
            let what = match skip1(i).chars().next() {
                Some(c) if is_invisible(c) => format!("`\\` followed by {}", show_char(c)),
                Some(c) => format!("`\\{c}`"),
                None => "`\\`".to_owned(),
            };
            return Err(fail(
                i,
                format!("invalid escape {what}; valid escapes are {ESCAPES}"),
                Some("write a backslash itself as `\\\\`"),
            ));
        }
    };
    // The escape is two ASCII bytes.
    Ok((i.get(2..).unwrap_or(""), c))
}

/// `\uXXXX`, as a UTF-16 code unit.
fn hex4(i: &str) -> PResult<'_, u16> {
    let (rest, digits) = preceded(
        tag("\\u"),
        take_while_m_n(4, 4, |c: char| c.is_ascii_hexdigit()),
    )
    .parse(i)?;
    let unit = u16::from_str_radix(digits, 16)
        .map_err(|_| nom::Err::Error(PErr::from_error_kind(i, ErrorKind::HexDigit)))?;
    Ok((rest, unit))
}

/// `\uXXXX`, or two of them for a character outside the Basic Multilingual Plane (a surrogate pair).
fn unicode_escape(i: &str) -> PResult<'_, char> {
    let (rest, high) = hex4(i).map_err(|_| bad_unicode_escape(i))?;
    let (rest, code) = match high {
        0xD800..=0xDBFF => {
            if !rest.starts_with("\\u") {
                return Err(unpaired(i));
            }
            let (after, low) = hex4(rest).map_err(|_| bad_unicode_escape(rest))?;
            if !(0xDC00..=0xDFFF).contains(&low) {
                return Err(unpaired(i));
            }
            let code = 0x10000 + ((u32::from(high) - 0xD800) << 10) + (u32::from(low) - 0xDC00);
            (after, code)
        }
        0xDC00..=0xDFFF => return Err(unpaired(i)),
        _ => (rest, u32::from(high)),
    };
    match char::from_u32(code) {
        Some(c) => Ok((rest, c)),
        None => Err(unpaired(i)),
    }
}

fn bad_unicode_escape(i: &str) -> nom::Err<PErr> {
    let shown: String = skip1(i)
        .chars()
        .take(5)
        .take_while(|&c| c != '"' && !is_invisible(c))
        .collect();
    fail(
        i,
        format!("invalid unicode escape `\\{shown}`; expected four hex digits after `\\u`"),
        None,
    )
}

fn unpaired(i: &str) -> nom::Err<PErr> {
    fail(
        i,
        format!(
            "unpaired surrogate `{}` in a string",
            i.get(..6).unwrap_or(i)
        ),
        Some(
            "a `\\uD800`-`\\uDBFF` escape must be followed by a `\\uDC00`-`\\uDFFF` escape; together they encode one character",
        ),
    )
}

fn unterminated(open: &str) -> nom::Err<PErr> {
    fail(
        open,
        "unterminated string".to_owned(),
        Some("close the string with `\"`"),
    )
}

fn control_char(i: &str) -> nom::Err<PErr> {
    let c = i.chars().next().unwrap_or('\0');
    let escaped = match c {
        '\n' => "\\n".to_owned(),
        '\r' => "\\r".to_owned(),
        '\t' => "\\t".to_owned(),
        '\u{8}' => "\\b".to_owned(),
        '\u{c}' => "\\f".to_owned(),
        _ => format!("\\u{:04X}", u32::from(c)),
    };
    let help = if c == '\n' {
        format!(
            "write it as the escape `{escaped}`; if the string should end here, close it with `\"`"
        )
    } else {
        format!("write it as the escape `{escaped}`")
    };
    nom::Err::Failure(PErr::new(
        i,
        format!(
            "unescaped control character U+{:04X} in a string",
            u32::from(c)
        ),
        Some(help),
    ))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]
mod tests {
    use super::*;

    /// `is_wordish` is `char::is_alphanumeric` for ASCII, Latin-1 and General Punctuation (so no message about
    /// ASCII text, nor about pasted curly quotes and dashes, changes), and elsewhere "shows": not invisible.
    #[test]
    fn tables_wordish_is_alphanumeric_where_it_matters() {
        for c in (0..=0x10ffff).filter_map(char::from_u32) {
            let want = match u32::from(c) {
                0..=0xff | 0x2000..=0x206f => c.is_alphanumeric(),
                _ => !is_invisible(c),
            };
            assert_eq!(is_wordish(c), want, "U+{:04X}", u32::from(c));
        }
        // What it changes: a non-ASCII symbol elsewhere is part of the quoted word.
        assert_eq!(word("→x: 1"), "→x");
        assert_eq!(word("“Effect”: 1"), "");
        assert_eq!(word("Ünïcode ok"), "Ünïcode");
    }
    use proptest::prelude::*;
    use serde_json::Value as SValue;

    // The examples of the items' documentation (a private module runs no doctests).

    #[test]
    fn example_value_kind_name() -> Result<(), JsonError> {
        use crate::parse::json::Value;
        assert_eq!(Value::Bool(true).kind_name(), "boolean");
        Ok(())
    }

    #[test]
    fn example_node_kind_name() -> Result<(), JsonError> {
        use crate::{limits::Limits, parse::json::Arena, parse::json::parse};
        let arena = Arena::new();
        assert_eq!(
            parse("[1]", &arena, &Limits::default())?.kind_name(),
            "array"
        );
        Ok(())
    }

    #[test]
    fn example_as_str() -> Result<(), JsonError> {
        use crate::{limits::Limits, parse::json::Arena, parse::json::parse};
        let arena = Arena::new();
        assert_eq!(
            parse(r#""a\/b""#, &arena, &Limits::default())?.as_str(),
            Some("a/b")
        );
        Ok(())
    }

    #[test]
    fn example_as_bool() -> Result<(), JsonError> {
        use crate::{limits::Limits, parse::json::Arena, parse::json::parse};
        let arena = Arena::new();
        assert_eq!(
            parse("false", &arena, &Limits::default())?.as_bool(),
            Some(false)
        );
        Ok(())
    }

    #[test]
    fn example_as_number() -> Result<(), JsonError> {
        use crate::{limits::Limits, parse::json::Arena, parse::json::parse};
        let arena = Arena::new();
        assert_eq!(
            parse("-1.50e3", &arena, &Limits::default())?.as_number(),
            Some("-1.50e3")
        );
        Ok(())
    }

    #[test]
    fn example_is_null() -> Result<(), JsonError> {
        use crate::{limits::Limits, parse::json::Arena, parse::json::parse};
        let arena = Arena::new();
        assert!(parse("null", &arena, &Limits::default())?.is_null());
        Ok(())
    }

    #[test]
    fn example_as_array() -> Result<(), JsonError> {
        use crate::{limits::Limits, parse::json::Arena, parse::json::parse};
        let arena = Arena::new();
        assert_eq!(
            parse("[1, 2]", &arena, &Limits::default())?
                .as_array()
                .map(<[_]>::len),
            Some(2)
        );
        Ok(())
    }

    #[test]
    fn example_as_object() -> Result<(), JsonError> {
        use crate::{limits::Limits, parse::json::Arena, parse::json::parse};
        let arena = Arena::new();
        let doc = parse(r#"{"a": 1, "a": 2}"#, &arena, &Limits::default())?;
        assert_eq!(doc.as_object().map(<[_]>::len), Some(2));
        Ok(())
    }

    #[test]
    fn example_get() -> Result<(), JsonError> {
        use crate::{limits::Limits, parse::json::Arena, parse::json::parse};
        let arena = Arena::new();
        let doc = parse(
            r#"{"Effect": "Allow", "Effect": "Deny"}"#,
            &arena,
            &Limits::default(),
        )?;
        assert_eq!(doc.get("Effect").and_then(|n| n.as_str()), Some("Allow"));
        assert!(doc.get("effect").is_none());
        Ok(())
    }

    #[test]
    fn example_line_col() -> Result<(), JsonError> {
        use crate::{limits::Limits, parse::json::Arena, parse::json::parse};
        let arena = Arena::new();
        let text = "{\n  \"a\": tru\n}";
        let err = parse(text, &arena, &Limits::default()).unwrap_err();
        assert_eq!(err.line_col(text), (2, 8));
        Ok(())
    }

    #[test]
    fn example_parse() -> Result<(), JsonError> {
        use crate::{limits::Limits, parse::json::Arena, parse::json::parse};
        let arena = Arena::new();
        let text = r#"{"Effect": "Allow", "Action": ["s3:GetObject"]}"#;
        let doc = parse(text, &arena, &Limits::default())?;
        let action = &doc.get("Action").and_then(|a| a.as_array()).unwrap()[0];
        assert_eq!(&text[action.span.range()], r#""s3:GetObject""#);

        let err = parse(r#"{"Effect": "Allow",}"#, &arena, &Limits::default()).unwrap_err();
        assert_eq!(err.offset, 19);
        assert_eq!(err.message, "expected a string key after `,`, found `}`");
        Ok(())
    }

    /// [`super::parse`] into an arena of its own, kept for the rest of the test run (tests only).
    fn parse<'a>(text: &'a str, limits: &Limits) -> Result<Node<'a>, JsonError> {
        super::parse(text, Box::leak(Box::new(Arena::new())), limits)
    }

    fn limits() -> Limits {
        Limits {
            max_depth: 1000,
            ..Limits::default()
        }
    }

    /// What serde_json makes of the same document: the last of duplicate keys wins, numbers as serde_json reads
    /// them on their own.
    fn to_serde(node: &Node<'_>) -> SValue {
        match &node.value {
            Value::Null => SValue::Null,
            Value::Bool(b) => SValue::Bool(*b),
            Value::Number(n) => serde_json::from_str(n).unwrap(),
            Value::String(s) => SValue::String(s.to_string()),
            Value::Array(items) => SValue::Array(items.iter().map(to_serde).collect()),
            Value::Object(members) => {
                let mut map = serde_json::Map::new();
                for m in *members {
                    map.insert(m.key.to_string(), to_serde(&m.value));
                }
                SValue::Object(map)
            }
        }
    }

    /// Every node's span holds exactly that node's text: it parses (with serde_json) to the same value, strings
    /// span their quotes, and keys span a string that unescapes to the key.
    fn check_spans(text: &str, node: &Node<'_>) {
        let own = &text[node.span.range()];
        assert_eq!(
            serde_json::from_str::<SValue>(own).unwrap(),
            to_serde(node),
            "span of {own:?}"
        );
        match &node.value {
            Value::String(_) => {
                assert!(own.len() >= 2 && own.starts_with('"') && own.ends_with('"'))
            }
            Value::Array(items) => {
                assert!(own.starts_with('[') && own.ends_with(']'));
                items.iter().for_each(|n| check_spans(text, n));
            }
            Value::Object(members) => {
                assert!(own.starts_with('{') && own.ends_with('}'));
                for m in *members {
                    let key_text = &text[m.key_span.range()];
                    assert_eq!(serde_json::from_str::<String>(key_text).unwrap(), m.key);
                    check_spans(text, &m.value);
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }

    /// Parses with both parsers and checks that they agree and that the spans are right.
    fn agree(text: &str) {
        let ours = parse(text, &limits()).unwrap_or_else(|e| panic!("{text:?}: {e:?}"));
        let theirs: SValue = serde_json::from_str(text).unwrap();
        assert_eq!(to_serde(&ours), theirs, "{text:?}");
        check_spans(text, &ours);
    }

    fn err(text: &str) -> JsonError {
        parse(text, &limits()).expect_err(text)
    }

    /// The number grammar as nom's combinators wrote it before the byte scanner: the reference
    /// `json6_the_number_scanner_is_the_nom_grammar` compares the scanner with.
    fn nom_number(i: &str) -> PResult<'_, &str> {
        use nom::character::complete::{char, digit1, one_of};
        use nom::combinator::{opt, recognize};
        fn committed<'a, O, P>(
            mut parser: P,
            what: &'static str,
        ) -> impl FnMut(&'a str) -> PResult<'a, O>
        where
            P: Parser<&'a str, Output = O, Error = PErr>,
        {
            move |i: &'a str| match parser.parse(i) {
                Err(nom::Err::Error(_)) => Err(fail(
                    i,
                    format!("expected {what}, found {}", found(i)),
                    hint(i),
                )),
                other => other,
            }
        }
        fn integer(i: &str) -> PResult<'_, &str> {
            match i.as_bytes() {
                [b'0', b'0'..=b'9', ..] => {
                    let n = i
                        .bytes()
                        .position(|b| !matches!(b, b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-'))
                        .unwrap_or(i.len());
                    Err(fail(
                        i,
                        format!("leading zero in number `{}`", &i[..n.min(24)]),
                        Some("JSON numbers cannot have leading zeros"),
                    ))
                }
                [b'0', ..] => tag("0").parse(i),
                _ => digit1(i),
            }
        }
        recognize((
            opt(char('-')),
            committed(integer, "a digit after `-`"),
            opt(preceded(
                char('.'),
                committed(digit1, "a digit after the decimal point"),
            )),
            opt((
                one_of("eE"),
                opt(one_of("+-")),
                committed(digit1, "a digit in the exponent"),
            )),
        ))
        .parse(i)
    }

    /// `plain_len` finds the first `"`, `\\` or control byte, whatever the bytes around it: each byte value at
    /// each place of a run of up to 20 bytes of every other value (some of them high, as in UTF-8), and none.
    #[test]
    fn json6_plain_len_finds_the_first_special_byte() {
        let naive = |b: &[u8]| {
            b.iter()
                .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
                .unwrap_or(b.len())
        };
        for len in 0..20usize {
            for fill in 0x20..=0xffu8 {
                if fill == b'"' || fill == b'\\' {
                    continue;
                }
                let mut b = vec![fill; len];
                assert_eq!(plain_len(&b), len);
                for at in 0..len {
                    for c in 0..=0xffu8 {
                        b[at] = c;
                        // A special byte after the first, too: the lowest must win.
                        if at + 1 < len {
                            b[len - 1] = b'"';
                        }
                        assert_eq!(plain_len(&b), naive(&b), "{b:?}");
                        b[len - 1] = fill;
                        b[at] = fill;
                    }
                }
            }
        }
    }

    #[test]
    fn json6_the_number_scanner_is_the_nom_grammar() {
        // Every text of up to six characters over the bytes a number is made of (and two that end one), after a
        // `-` or a digit as the scanner is called: the same end, or the same error (offset, message, help).
        let alphabet = ['-', '0', '1', '9', '.', 'e', 'E', '+', 'x', ' '];
        let mut texts = vec![String::new()];
        let mut checked = 0;
        for _ in 0..6 {
            let mut longer = Vec::new();
            for t in &texts {
                for c in alphabet {
                    longer.push(format!("{t}{c}"));
                }
            }
            for text in &longer {
                if !matches!(text.as_bytes()[0], b'-' | b'0'..=b'9') {
                    continue;
                }
                let ours = number(text, 0).map_err(|e| match e {
                    nom::Err::Error(e) | nom::Err::Failure(e) => {
                        let e = e.into_json_error(text);
                        (e.offset, e.message, e.help)
                    }
                    nom::Err::Incomplete(_) => unreachable!(),
                });
                let theirs = nom_number(text)
                    .map(|(rest, _)| text.len() - rest.len())
                    .map_err(|e| match e {
                        nom::Err::Error(e) | nom::Err::Failure(e) => {
                            let e = e.into_json_error(text);
                            (e.offset, e.message, e.help)
                        }
                        nom::Err::Incomplete(_) => unreachable!(),
                    });
                assert_eq!(ours, theirs, "{text:?}");
                checked += 1;
            }
            texts = longer;
        }
        assert!(checked > 300_000, "{checked}");
    }

    /// Asserts the offset and message of the error for `text`.
    fn assert_err(text: &str, offset: usize, message: &str) -> JsonError {
        let e = err(text);
        assert_eq!(
            (e.offset, e.message.as_str()),
            (offset, message),
            "{text:?}"
        );
        assert!(
            !e.message.contains('\n') && !e.message.ends_with('.'),
            "{e:?}"
        );
        e
    }

    #[test]
    fn agrees_with_serde_json_on_hand_written_documents() {
        for text in [
            "null",
            "true",
            "false",
            " \t\r\n0 \t\r\n",
            "-0",
            "-0.0e-0",
            "1.5E+10",
            "123456789012345678901234567890",
            "-9223372036854775808",
            "18446744073709551615",
            "1e308",
            "2.2250738585072014e-308",
            "1e-400",
            "0.1",
            r#""""#,
            r#""plain ascii""#,
            r#""é 中 😀 \u00e9\u4e2d\ud83d\ude00 \uD83D\uDE00""#,
            r#""\" \\ \/ \b \f \n \r \t \u0000 \u001f \u007F""#,
            "\"\u{7f} raw DEL is allowed\"",
            "[]",
            "{}",
            "[[], {}, [[]], {\"\": {}}]",
            "[1,2 , 3 ,\n4]",
            r#"{"Version": "2012-10-17", "Statement": [{"Sid": "A", "Effect": "Allow", "Action": ["s3:*"],
                "Resource": "arn:aws:s3:::b/*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]}"#,
            r#"{"a": 1, "a": 2, "b": {"a": [true, false, null]}, "a": 3}"#,
            r#"{"a\u0000b": "k with escapes", "a": "x\\y"}"#,
        ] {
            agree(text);
        }
    }

    #[test]
    fn strings_without_escapes_borrow_from_the_text() {
        let doc = parse(r#"["plain", "esc\n", "é"]"#, &limits()).unwrap();
        let items = doc.as_array().unwrap();
        assert!(matches!(items[0].value, Value::String("plain")));
        assert!(matches!(items[1].value, Value::String("esc\n")));
        assert!(matches!(items[2].value, Value::String("é")));
        // A slice of the text: the same bytes, not a copy.
        let text = r#"["plain", "esc\n"]"#;
        let doc = parse(text, &limits()).unwrap();
        let items = doc.as_array().unwrap();
        let plain = items[0].as_str().unwrap();
        assert!(std::ptr::eq(plain.as_ptr(), text[2..].as_ptr()));
        assert!(
            !text
                .as_bytes()
                .as_ptr_range()
                .contains(&items[1].as_str().unwrap().as_ptr())
        );
    }

    /// `with_parsed` hands each call the tree of its own text, in the thread's arena or, for a call made while
    /// that arena holds a tree, in a fresh one; an error is handed over as `parse` returns it.
    #[test]
    fn with_parsed_reuses_the_thread_arena_and_nests() {
        let l = limits();
        for _ in 0..3 {
            let got = with_parsed(r#"{"a": ["x\ty", 1]}"#, &l, |outer| {
                let outer = outer.unwrap();
                let inner = with_parsed(r#"["b", {"c": null}]"#, &l, |inner| {
                    let inner = inner.unwrap();
                    assert_eq!(to_serde(&inner), serde_json::json!(["b", {"c": null}]));
                    inner.as_array().unwrap().len()
                });
                // The outer tree is intact after the nested call.
                (to_serde(&outer), inner)
            });
            assert_eq!(got, (serde_json::json!({"a": ["x\ty", 1]}), 2));
        }
        let e = with_parsed("[1,]", &l, |r| r.unwrap_err());
        assert_eq!(e, parse("[1,]", &l).unwrap_err());
        // A tree larger than the arena keeps between calls is parsed all the same, and the next one too.
        let big = format!("[{}1]", "\"abcdefgh\",".repeat(KEEP / 8));
        assert_eq!(
            with_parsed(
                &big,
                &Limits {
                    max_document_bytes: usize::MAX,
                    ..l
                },
                |r| r.unwrap().as_array().unwrap().len()
            ),
            KEEP / 8 + 1
        );
        assert_eq!(
            with_parsed("[true]", &l, |r| to_serde(&r.unwrap())),
            serde_json::json!([true])
        );
    }

    #[test]
    fn plain_len_finds_the_first_special_byte_at_every_position() {
        for len in 0..40 {
            for at in 0..=len {
                for special in [b'"', b'\\', 0x00, 0x1f, b'\n'] {
                    let mut bytes = vec![b'a'; len];
                    // Neighbours of the special bytes and UTF-8 continuation bytes must not match.
                    for (k, b) in bytes.iter_mut().enumerate() {
                        *b = [b'a', b'!', b'#', b'[', b']', 0x20, 0x7f, 0x80, 0xff][k % 9];
                    }
                    if at < len {
                        bytes[at] = special;
                    }
                    // A later special byte must not hide the first.
                    if at + 3 < len {
                        bytes[at + 3] = b'"';
                    }
                    assert_eq!(plain_len(&bytes), at, "len {len} at {at} byte {special:#x}");
                }
            }
        }
    }

    #[test]
    fn spans_cover_values_and_keys_exactly() {
        let text = r#" {"Statement" : [ {"Action":"s3:Get\u002a", "n": -1.5e3} ] } "#;
        let doc = parse(text, &limits()).unwrap();
        assert_eq!(&text[doc.span.range()], text.trim());
        let statement = &doc.as_object().unwrap()[0];
        assert_eq!(&text[statement.key_span.range()], r#""Statement""#);
        let inner = &statement.value.as_array().unwrap()[0];
        assert_eq!(
            &text[inner.span.range()],
            r#"{"Action":"s3:Get\u002a", "n": -1.5e3}"#
        );
        let action = &inner.as_object().unwrap()[0];
        assert_eq!(&text[action.key_span.range()], r#""Action""#);
        assert_eq!(&text[action.value.span.range()], r#""s3:Get\u002a""#);
        assert_eq!(action.value.as_str(), Some("s3:Get*"));
        let n = inner.get("n").unwrap();
        assert_eq!(
            (&text[n.span.range()], n.as_number()),
            ("-1.5e3", Some("-1.5e3"))
        );
        check_spans(text, &doc);
    }

    #[test]
    fn duplicate_keys_are_kept_in_order() {
        let text = r#"{"Effect": "Allow", "Action": "a", "Effect": "Deny"}"#;
        let doc = parse(text, &limits()).unwrap();
        let members = doc.as_object().unwrap();
        let keys: Vec<_> = members.iter().map(|m| m.key).collect();
        assert_eq!(keys, ["Effect", "Action", "Effect"]);
        assert_eq!(&text[members[0].key_span.range()], r#""Effect""#);
        assert_eq!(members[2].key_span.start, 35);
        assert_eq!(members[2].value.as_str(), Some("Deny"));
        // `get` gives the first.
        assert_eq!(doc.get("Effect").and_then(Node::as_str), Some("Allow"));
    }

    #[test]
    fn helper_methods() {
        let doc = parse(
            r#"{"s": "x", "n": 1, "b": true, "z": null, "a": [], "o": {}}"#,
            &limits(),
        )
        .unwrap();
        let kinds: Vec<_> = doc
            .as_object()
            .unwrap()
            .iter()
            .map(|m| m.value.kind_name())
            .collect();
        assert_eq!(
            kinds,
            ["string", "number", "boolean", "null", "array", "object"]
        );
        assert_eq!(doc.kind_name(), "object");
        assert!(doc.get("z").unwrap().is_null());
        assert_eq!(doc.get("b").unwrap().as_bool(), Some(true));
        assert_eq!(doc.get("s").unwrap().as_bool(), None);
        assert_eq!(doc.get("a").unwrap().as_array(), Some(&[][..]));
        assert!(doc.get("a").unwrap().get("s").is_none());
        assert!(doc.get("missing").is_none());
    }

    #[test]
    fn structure_errors() {
        let v = "expected a value (a string, number, object, array, `true`, `false` or `null`)";
        assert_err("", 0, &format!("{v}, found end of input"));
        assert_err("  \n ", 4, &format!("{v}, found end of input"));
        assert_err(
            "[1, 2",
            5,
            "expected `,` or `]` after an array element, found end of input",
        );
        assert_err(
            "[1 2]",
            3,
            "expected `,` or `]` after an array element, found `2`",
        );
        assert_err(
            "[1}",
            2,
            "expected `,` or `]` after an array element, found `}`",
        );
        assert_err(
            r#"{"a": 1]"#,
            7,
            "expected `,` or `}` after an object member, found `]`",
        );
        assert_err(
            r#"{"a":1 "b":2}"#,
            7,
            "expected `,` or `}` after an object member, found a string",
        );
        assert_err(
            r#"{"a" 1}"#,
            5,
            "expected `:` after an object key, found `1`",
        );
        assert_err(
            r#"{"a""#,
            4,
            "expected `:` after an object key, found end of input",
        );
        assert_err(r#"{"a":}"#, 5, &format!("{v}, found `}}`"));
        assert_err(
            "{",
            1,
            "expected a string key or `}` after `{`, found end of input",
        );
        let e = assert_err(
            "{a: 1}",
            1,
            "expected a string key or `}` after `{`, found `a`",
        );
        assert_eq!(
            e.help.as_deref(),
            Some("object keys are strings in double quotes")
        );
        let e = assert_err(
            r#"{"a": 1,}"#,
            8,
            "expected a string key after `,`, found `}`",
        );
        assert_eq!(
            e.help.as_deref(),
            Some("JSON does not allow a trailing comma")
        );
        let e = assert_err("[1,\n]", 4, "expected a value after `,`, found `]`");
        assert_eq!(
            e.help.as_deref(),
            Some("JSON does not allow a trailing comma")
        );
        assert_err("[,1]", 1, &format!("{v}, found `,`"));
        let e = assert_err("1 2", 2, "trailing characters after the JSON value");
        assert_eq!(
            e.help.as_deref(),
            Some("a document holds exactly one JSON value")
        );
        assert_err("[1]]", 3, "trailing characters after the JSON value");
        assert_err("{}x", 2, "trailing characters after the JSON value");
    }

    #[test]
    fn literal_and_character_errors() {
        let v = "expected a value (a string, number, object, array, `true`, `false` or `null`)";
        let e = assert_err("True", 0, &format!("{v}, found `True`"));
        assert_eq!(
            e.help.as_deref(),
            Some("JSON literals are lowercase: `true`, `false` and `null`")
        );
        assert_err("[tru]", 1, &format!("{v}, found `tru`"));
        assert_err("nul", 0, &format!("{v}, found `nul`"));
        let e = assert_err("[NaN]", 1, &format!("{v}, found `NaN`"));
        assert_eq!(
            e.help.as_deref(),
            Some("JSON has no NaN or infinite numbers")
        );
        let e = assert_err("'a'", 0, &format!("{v}, found `'`"));
        assert_eq!(
            e.help.as_deref(),
            Some("JSON strings use double quotes `\"`")
        );
        let e = assert_err("\u{a0}1", 0, &format!("{v}, found U+00A0"));
        assert_eq!(
            e.help.as_deref(),
            Some("JSON whitespace is only space, tab, line feed and carriage return")
        );
        // A leading byte order mark is named as one (editors on Windows write it); elsewhere it is a character.
        let e = assert_err(
            "\u{feff}{}",
            0,
            "the text starts with a UTF-8 byte order mark (U+FEFF), which JSON does not allow",
        );
        assert_eq!(
            e.help.as_deref(),
            Some("save the file as UTF-8 without a byte order mark")
        );
        assert_err("[\u{feff}]", 1, &format!("{v}, found U+FEFF"));
        assert_err("[\u{c}]", 1, &format!("{v}, found U+000C"));
        let e = assert_err("// c\n1", 0, &format!("{v}, found `/`"));
        assert_eq!(e.help.as_deref(), Some("JSON has no comments"));
        // The word shown is cut at 24 characters.
        assert_err(
            &"x".repeat(100),
            0,
            &format!("{v}, found `{}`", "x".repeat(24)),
        );
    }

    #[test]
    fn number_errors() {
        let v = "expected a value (a string, number, object, array, `true`, `false` or `null`)";
        let e = assert_err("01", 0, "leading zero in number `01`");
        assert_eq!(
            e.help.as_deref(),
            Some("JSON numbers cannot have leading zeros")
        );
        assert_err("[-00.5]", 2, "leading zero in number `00.5`");
        assert_err("-", 1, "expected a digit after `-`, found end of input");
        let e = assert_err(
            "-Infinity",
            1,
            "expected a digit after `-`, found `Infinity`",
        );
        assert_eq!(
            e.help.as_deref(),
            Some("JSON has no NaN or infinite numbers")
        );
        assert_err("[- 1]", 2, "expected a digit after `-`, found U+0020");
        assert_err(
            "1.",
            2,
            "expected a digit after the decimal point, found end of input",
        );
        assert_err(
            "1.e5",
            2,
            "expected a digit after the decimal point, found `e5`",
        );
        assert_err(
            "1e",
            2,
            "expected a digit in the exponent, found end of input",
        );
        assert_err(
            "1E+",
            3,
            "expected a digit in the exponent, found end of input",
        );
        assert_err("[1e-x]", 4, "expected a digit in the exponent, found `x`");
        let e = assert_err(".5", 0, &format!("{v}, found `.5`"));
        assert_eq!(
            e.help.as_deref(),
            Some("a number needs a digit before the decimal point, as in `0.5`")
        );
        let e = assert_err("+1", 0, &format!("{v}, found `+1`"));
        assert_eq!(e.help.as_deref(), Some("a number cannot start with `+`"));
        assert_err("0x1F", 1, "trailing characters after the JSON value");
        assert_err(
            "[1.5.2]",
            4,
            "expected `,` or `]` after an array element, found `.2`",
        );
    }

    #[test]
    fn string_errors() {
        let e = assert_err(r#"["abc"#, 1, "unterminated string");
        assert_eq!(e.help.as_deref(), Some("close the string with `\"`"));
        assert_err(r#""abc\"#, 0, "unterminated string");
        assert_err(r#""abc\u00e9"#, 0, "unterminated string");
        let e = assert_err(
            r#""a\qb""#,
            2,
            r#"invalid escape `\q`; valid escapes are \" \\ \/ \b \f \n \r \t \uXXXX"#,
        );
        assert_eq!(e.help.as_deref(), Some(r"write a backslash itself as `\\`"));
        assert_err(
            r#""\é""#,
            1,
            r#"invalid escape `\é`; valid escapes are \" \\ \/ \b \f \n \r \t \uXXXX"#,
        );
        assert_err(
            "\"\\\n\"",
            1,
            r#"invalid escape `\` followed by U+000A; valid escapes are \" \\ \/ \b \f \n \r \t \uXXXX"#,
        );
        assert_err(
            r#""x\u12G4""#,
            2,
            r"invalid unicode escape `\u12G4`; expected four hex digits after `\u`",
        );
        assert_err(
            r#""\u12""#,
            1,
            r"invalid unicode escape `\u12`; expected four hex digits after `\u`",
        );
        assert_err(
            r#""\u+123""#,
            1,
            r"invalid unicode escape `\u+123`; expected four hex digits after `\u`",
        );
        let e = assert_err(r#""\uD800""#, 1, r"unpaired surrogate `\uD800` in a string");
        assert!(e.help.unwrap().contains("must be followed by"));
        assert_err(r#""\udc00""#, 1, r"unpaired surrogate `\udc00` in a string");
        assert_err(
            r#""ab\uD83D\u0041""#,
            3,
            r"unpaired surrogate `\uD83D` in a string",
        );
        assert_err(
            r#""\uD83D\uD83D""#,
            1,
            r"unpaired surrogate `\uD83D` in a string",
        );
        assert_err(
            r#""\uD83D\n""#,
            1,
            r"unpaired surrogate `\uD83D` in a string",
        );
        assert_err(
            r#""\uD83D\uDE0""#,
            7,
            r"invalid unicode escape `\uDE0`; expected four hex digits after `\u`",
        );
        let e = assert_err(
            "{\"a\nb\": 1}",
            3,
            "unescaped control character U+000A in a string",
        );
        assert_eq!(
            e.help.as_deref(),
            Some("write it as the escape `\\n`; if the string should end here, close it with `\"`")
        );
        let e = assert_err(
            "\"a\\n\u{1}\"",
            4,
            "unescaped control character U+0001 in a string",
        );
        assert_eq!(e.help.as_deref(), Some("write it as the escape `\\u0001`"));
        assert_err(
            "\"\t\"",
            1,
            "unescaped control character U+0009 in a string",
        );
    }

    #[test]
    fn offsets_and_line_col_are_in_bytes_and_characters() {
        let text = "{\"é\": [1,\n  2 3]}";
        let e = assert_err(
            text,
            15,
            "expected `,` or `]` after an array element, found `3`",
        );
        assert_eq!(e.line_col(text), (2, 5));
    }

    #[test]
    fn nesting_deeper_than_the_limit_is_an_error_at_the_bracket() {
        let limits = Limits {
            max_depth: 3,
            ..Limits::default()
        };
        assert!(parse("[[[1]]]", &limits).is_ok());
        assert!(parse(r#"{"a": [{"b": 1}], "c": [[]]}"#, &limits).is_ok());
        let e = parse("[[[[1]]]]", &limits).unwrap_err();
        assert_eq!(
            (e.offset, e.message.as_str()),
            (
                3,
                "`[` nests arrays and objects 4 deep, more than the limit of 3"
            )
        );
        let e = parse(r#"[{"a": [ {}]}]"#, &limits).unwrap_err();
        assert_eq!(
            (e.offset, e.message.as_str()),
            (
                9,
                "`{` nests arrays and objects 4 deep, more than the limit of 3"
            )
        );
        let zero = Limits {
            max_depth: 0,
            ..Limits::default()
        };
        assert!(parse("\"scalars need no depth\"", &zero).is_ok());
        assert_eq!(parse("[]", &zero).unwrap_err().offset, 0);
        // The default allows 32 levels.
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(parse(&deep(32), &Limits::default()).is_ok());
        assert_eq!(parse(&deep(33), &Limits::default()).unwrap_err().offset, 32);
    }

    #[test]
    fn no_limit_on_depth_cannot_overflow_the_stack() {
        let unlimited = Limits {
            max_depth: usize::MAX,
            max_document_bytes: usize::MAX,
            ..Limits::default()
        };
        // The parser keeps open containers on the heap: a million unclosed `[` is just an error at the end.
        let e = parse(&"[".repeat(1_000_000), &unlimited).unwrap_err();
        assert_eq!(e.offset, 1_000_000);
        let e = parse(&"{\"a\":".repeat(200_000), &unlimited).unwrap_err();
        assert_eq!(e.offset, 1_000_000);
        // Closed, such documents parse, and go with their arena without a walk (issue 14 item 17: a limit raised
        // to 50,000 overflowed the stack on drop): arrays, objects, and both mixed, on a thread with a small stack.
        let n = 200_000;
        let arrays = format!("{}{}", "[".repeat(n), "]".repeat(n));
        let objects = format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n));
        let mixed = format!("{}1{}", "[{\"a\":".repeat(n / 2), "}]".repeat(n / 2));
        std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                for text in [arrays, objects, mixed] {
                    let arena = Arena::new();
                    let doc = super::parse(&text, &arena, &unlimited).unwrap();
                    assert_eq!(doc.span.end as usize, text.len());
                    drop(arena);
                }
            })
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn documents_over_the_size_limit_are_rejected_before_parsing() {
        let limits = Limits {
            max_document_bytes: 10,
            ..Limits::default()
        };
        assert!(parse("[1,2,3,4] ", &limits).is_ok());
        let e = parse("[1,2,3,4]  ", &limits).unwrap_err();
        assert_eq!(
            (e.offset, e.message.as_str()),
            (0, "document is 11 bytes, more than the limit of 10 bytes")
        );
        // Size is checked first, even when the text is not JSON.
        assert_eq!(parse("not json at all", &limits).unwrap_err().offset, 0);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Property tests

    fn arb_json() -> impl Strategy<Value = SValue> {
        let leaf = prop_oneof![
            Just(SValue::Null),
            any::<bool>().prop_map(SValue::Bool),
            any::<i64>().prop_map(SValue::from),
            any::<u64>().prop_map(SValue::from),
            any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
                .map(SValue::Number)),
            any::<String>().prop_map(SValue::String),
            "[a-c\"\\\\/\n\u{1}é😀]{0,6}".prop_map(SValue::String),
        ];
        leaf.prop_recursive(5, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(SValue::Array),
                prop::collection::vec(("[a-c\"\\\\é]{0,3}|.*", inner), 0..6)
                    .prop_map(|kv| SValue::Object(kv.into_iter().collect())),
            ]
        })
    }

    /// Serialises with every string character escaped that can be (`\/`, `\b`, `\uXXXX` and surrogate pairs for
    /// everything outside ASCII, in both hex cases) and with all four kinds of whitespace between tokens.
    fn escaped_json(v: &SValue, out: &mut String) {
        fn string(s: &str, out: &mut String) {
            out.push('"');
            for (k, c) in s.chars().enumerate() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '/' => out.push_str("\\/"),
                    '\u{8}' => out.push_str("\\b"),
                    '\u{c}' => out.push_str("\\f"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    ' '..='~' => out.push(c),
                    _ => {
                        for unit in c.encode_utf16(&mut [0; 2]) {
                            if k % 2 == 0 {
                                out.push_str(&format!("\\u{unit:04x}"));
                            } else {
                                out.push_str(&format!("\\u{unit:04X}"));
                            }
                        }
                    }
                }
            }
            out.push('"');
        }
        match v {
            SValue::String(s) => string(s, out),
            SValue::Array(items) => {
                out.push_str("[\r\n");
                for (k, item) in items.iter().enumerate() {
                    if k > 0 {
                        out.push_str(" ,\t");
                    }
                    escaped_json(item, out);
                }
                out.push_str("\n]");
            }
            SValue::Object(map) => {
                out.push_str("{\t");
                for (k, (key, value)) in map.iter().enumerate() {
                    if k > 0 {
                        out.push_str("\r,");
                    }
                    string(key, out);
                    out.push_str(" :\n");
                    escaped_json(value, out);
                }
                out.push_str(" }");
            }
            other => out.push_str(&other.to_string()),
        }
    }

    /// Strings of characters that matter to JSON, mostly invalid.
    fn jsonish() -> impl Strategy<Value = String> {
        let chars = vec![
            '{', '}', '[', ']', ',', ':', '"', '"', '\\', '/', 'u', '0', '1', '9', '-', '+', '.',
            'e', 'E', ' ', '\t', '\n', '\r', 't', 'r', 'n', 'l', 'f', 'a', 's', 'b', 'D', '8', 'C',
            'x', '\u{1}', '\u{a0}', 'é', '😀',
        ];
        prop::collection::vec(prop::sample::select(chars), 0..20)
            .prop_map(|v| v.into_iter().collect())
    }

    /// A valid document with one character deleted, inserted or replaced: mostly invalid, near the edge.
    fn mutated() -> impl Strategy<Value = String> {
        let chars = vec![
            '{', '}', '[', ']', ',', ':', '"', '\\', 'u', '0', '1', '-', '+', '.', 'e', ' ', '\n',
            'x', '\u{1}', 'é',
        ];
        (
            arb_json(),
            any::<bool>(),
            0..3u8,
            any::<prop::sample::Index>(),
            prop::sample::select(chars),
        )
            .prop_map(|(v, pretty, op, at, c)| {
                let text = if pretty {
                    serde_json::to_string_pretty(&v).unwrap()
                } else {
                    serde_json::to_string(&v).unwrap()
                };
                let mut chars: Vec<char> = text.chars().collect();
                let k = at.index(chars.len() + 1);
                match op {
                    0 if k < chars.len() => {
                        chars.remove(k);
                    }
                    1 if k < chars.len() => chars[k] = c,
                    _ => chars.insert(k, c),
                }
                chars.into_iter().collect()
            })
    }

    /// Both parsers accept or both reject; where both accept, they agree on the value.
    fn same_verdict(text: &str) -> Result<(), TestCaseError> {
        let theirs = serde_json::from_str::<SValue>(text);
        if let Err(e) = &theirs {
            // serde_json rejects numbers beyond f64 (`1e400`); the JSON grammar does not, and neither do we.
            prop_assume!(!e.to_string().contains("number out of range"));
        }
        let ours = parse(text, &limits());
        match (&ours, &theirs) {
            (Ok(node), Ok(value)) => prop_assert_eq!(&to_serde(node), value, "{:?}", text),
            (Err(e), Err(_)) => prop_assert!(e.offset <= text.len()),
            _ => prop_assert!(
                false,
                "{:?}: ours {:?}, serde_json {:?}",
                text,
                ours,
                theirs
            ),
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn agrees_with_serde_json_on_generated_documents(v in arb_json()) {
            let mut escaped = String::new();
            escaped_json(&v, &mut escaped);
            for text in [serde_json::to_string(&v).unwrap(), serde_json::to_string_pretty(&v).unwrap(), escaped] {
                let ours = parse(&text, &limits()).map_err(|e| TestCaseError::fail(format!("{text:?}: {e:?}")))?;
                prop_assert_eq!(&to_serde(&ours), &v, "{:?}", text);
                check_spans(&text, &ours);
            }
        }

        #[test]
        fn agrees_with_serde_json_on_validity_of_jsonish_strings(text in jsonish()) {
            same_verdict(&text)?;
        }

        #[test]
        fn agrees_with_serde_json_on_validity_of_mutated_documents(text in mutated()) {
            same_verdict(&text)?;
        }

        #[test]
        fn never_panics_and_errors_point_into_the_text(text in any::<String>(), depth in 0..4usize, size in 0..64usize) {
            for limits in [Limits::default(), Limits { max_depth: depth, max_document_bytes: size, ..Limits::default() }] {
                if let Err(e) = parse(&text, &limits) {
                    prop_assert!(e.offset <= text.len() && text.is_char_boundary(e.offset), "{:?}", e);
                    prop_assert!(!e.message.is_empty() && !e.message.contains('\n'), "{:?}", e);
                }
            }
        }

        #[test]
        fn never_panics_on_long_jsonish_text(parts in prop::collection::vec(jsonish(), 0..20)) {
            let text = parts.concat();
            if let Err(e) = parse(&text, &limits()) {
                prop_assert!(e.offset <= text.len() && text.is_char_boundary(e.offset), "{:?}", e);
            }
        }
    }
}
