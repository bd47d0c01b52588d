//! A request's fields held between decisions ([`HeldFields`]): a host that decides request after request sends
//! only the fields that changed since the last one (the WebAssembly package's `decideFast` does). The fields are
//! those of [`Compiled::decide_fields`], in its order.

use super::{ApiError, Compiled};
use crate::context::ValueRef;
use crate::decide::{Decision, KeyLayout};

/// The start a span gives for a field that is the one held: [`HeldFields::take`] keeps it.
pub const KEPT: u32 = u32::MAX;

/// The most context keys a request given as fields may have.
const MAX_KEYS: usize = super::set::FIELD_KEYS;

/// The fields of the last request taken ([`HeldFields::take`]): principal (empty for none), action, resource, then
/// each context key and its value. Taking a request copies its new fields into strings held here; once they have
/// grown to the longest fields seen, nothing is allocated.
///
/// ```
/// use iamgate::api::{HeldFields, KEPT, compile};
/// let set = compile(r#"{"identity_policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
///   "Action": "s3:GetObject", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]}]}"#).unwrap();
/// let mut held = HeldFields::default();
/// // Every field sent: "", the action, the resource, the key, the address.
/// let bytes = b"s3:GetObjectarn:aws:s3:::b/kaws:SourceIp10.1.2.3";
/// held.take(bytes, &[0, 0, 0, 12, 12, 16, 28, 12, 40, 8]).unwrap();
/// assert_eq!(held.decide(&set, None), Ok(iamgate::Decision::Allow));
/// // Only the address sent: the other fields are the held ones.
/// held.take(b"192.0.2.1", &[KEPT, 0, KEPT, 0, KEPT, 0, KEPT, 0, 0, 9]).unwrap();
/// assert_eq!(held.decide(&set, None), Ok(iamgate::Decision::ImplicitDeny));
/// ```
#[derive(Debug, Default, Clone)]
pub struct HeldFields {
    /// Every field held; the request's are the first `count`.
    fields: Vec<String>,
    count: usize,
}

impl HeldFields {
    /// The most fields a request may have: principal, action, resource and 32 context keys with their values.
    pub const MAX_FIELDS: usize = 3 + 2 * MAX_KEYS;

    /// Take the next request's fields: `spans` holds two numbers for each field, its start and its length in
    /// `bytes`, or [`KEPT`] and anything to keep the field held at that place. A field out of `bytes`, not
    /// UTF-8, or kept where none is held is an error, as are fewer than three fields, a key without a value and
    /// more than 32 keys; after an error no field is held.
    pub fn take(&mut self, bytes: &[u8], spans: &[u32]) -> Result<(), Box<ApiError>> {
        let taken = self.take_fields(bytes, spans);
        if taken.is_err() {
            self.fields.clear();
            self.count = 0;
        }
        taken
    }

    fn take_fields(&mut self, bytes: &[u8], spans: &[u32]) -> Result<(), Box<ApiError>> {
        let error = |m: String| Err(Box::new(ApiError::new(m)));
        let n = spans.len() / 2;
        if n < 3 {
            return error("expected principal, action and resource".into());
        }
        if n > Self::MAX_FIELDS {
            return error(format!("more than {MAX_KEYS} context keys"));
        }
        self.count = 0;
        for (i, span) in spans.chunks_exact(2).enumerate() {
            let &[start, len] = span else { break };
            if start == KEPT {
                if i >= self.fields.len() {
                    return error(format!("field {i} is kept but none is held"));
                }
                continue;
            }
            let (start, len) = (start as usize, len as usize);
            let Some(text) = start.checked_add(len).and_then(|end| bytes.get(start..end)) else {
                return error(format!("field {i} is out of bounds"));
            };
            let Ok(text) = std::str::from_utf8(text) else {
                return error(format!("field {i} is not UTF-8"));
            };
            match self.fields.get_mut(i) {
                Some(f) => {
                    f.clear();
                    f.push_str(text);
                }
                None => self.fields.push(text.to_string()),
            }
        }
        if n % 2 == 0 {
            let key = self.field(n - 1);
            return error(format!("context key `{key}` has no value"));
        }
        self.count = n;
        Ok(())
    }

    /// Field `i` as held (empty past the end).
    #[inline(always)]
    fn field(&self, i: usize) -> &str {
        self.fields.get(i).map_or("", String::as_str)
    }

    /// The context keys of the request taken, in its order, for the layout [`HeldFields::decide`] reads.
    pub fn layout(&self, set: &Compiled) -> KeyLayout {
        let keys = (3..self.count).step_by(2).map(|i| self.field(i));
        set.set.key_layout(keys)
    }

    /// Decide the request taken last against `set`, as [`Compiled::decide_fields_with`] decides the same fields
    /// (an error when no request is held).
    pub fn decide(
        &self,
        set: &Compiled,
        layout: Option<&KeyLayout>,
    ) -> Result<Decision, Box<ApiError>> {
        if self.count < 3 {
            return Err(Box::new(ApiError::new(
                "expected principal, action and resource",
            )));
        }
        let n = (self.count - 3) / 2;
        // The context's array is filled whole on each call: a short one for the usual few keys.
        if n <= 8 {
            self.decide_in::<8>(set, layout, n)
        } else {
            self.decide_in::<MAX_KEYS>(set, layout, n)
        }
    }

    /// [`HeldFields::decide`] with `n` context keys, at most `N`.
    fn decide_in<const N: usize>(
        &self,
        set: &Compiled,
        layout: Option<&KeyLayout>,
        n: usize,
    ) -> Result<Decision, Box<ApiError>> {
        let mut context = [("", ValueRef::One("")); N];
        let mut i = 3;
        for slot in context.iter_mut().take(n) {
            *slot = (self.field(i), ValueRef::One(self.field(i + 1)));
            i += 2;
        }
        set.decide_field_request(
            layout,
            self.field(0),
            self.field(1),
            self.field(2),
            context.get(..n),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::compile;

    fn set() -> Compiled {
        compile(
            r#"{"identity_policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Action": "s3:GetObject", "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalTag/t": "x"}}}]}]}"#,
        )
        .unwrap()
    }

    /// Spans for `fields` laid end to end in one text, each field sent (`Some`) or kept (`None`).
    fn send(fields: &[Option<&str>]) -> (Vec<u8>, Vec<u32>) {
        let (mut bytes, mut spans) = (Vec::new(), Vec::new());
        for f in fields {
            match f {
                Some(f) => {
                    spans.extend([bytes.len() as u32, f.len() as u32]);
                    bytes.extend_from_slice(f.as_bytes());
                }
                None => spans.extend([KEPT, 0]),
            }
        }
        (bytes, spans)
    }

    /// Every sequence of requests decides as `decide_fields` decides each request whole: fields kept from the
    /// last request, sent again, changed, grown and shrunk, with more keys and then fewer.
    #[test]
    fn held_fields_decide_as_the_whole_fields_do() {
        let set = set();
        let mut held = HeldFields::default();
        let requests: [&[Option<&str>]; 6] = [
            &[
                Some(""),
                Some("s3:GetObject"),
                Some("*"),
                Some("aws:PrincipalTag/t"),
                Some("x"),
            ],
            &[None, None, None, None, Some("y")],
            &[
                None,
                None,
                None,
                None,
                Some("x"),
                Some("aws:SourceVpc"),
                Some("vpc-1"),
            ],
            &[
                None,
                None,
                None,
                Some("aws:SourceVpc"),
                Some("vpc-1"),
                Some("aws:PrincipalTag/t"),
                Some("x"),
            ],
            &[None, Some("s3:PutObject"), None, None, None, None, None],
            &[None, Some("s3:GetObject"), None],
        ];
        let mut whole: Vec<String> = Vec::new();
        let mut seen = Vec::new();
        for (r, fields) in requests.iter().enumerate() {
            for (i, f) in fields.iter().enumerate() {
                match (f, whole.get_mut(i)) {
                    (Some(f), Some(w)) => *w = f.to_string(),
                    (Some(f), None) => whole.push(f.to_string()),
                    (None, _) => {}
                }
            }
            let text = whole.get(..fields.len()).unwrap().join("\u{1f}");
            let (bytes, spans) = send(fields);
            held.take(&bytes, &spans).unwrap();
            let want = set.decide_fields(&text);
            assert_eq!(held.decide(&set, None), want, "request {r}: {text:?}");
            let layout = held.layout(&set);
            assert_eq!(held.decide(&set, Some(&layout)), want, "request {r}");
            seen.push(want.unwrap());
        }
        // The requests decide both ways, so the comparison says something.
        assert!(seen.contains(&Decision::Allow) && seen.contains(&Decision::ImplicitDeny));
    }

    /// Requests of 1 to 32 keys (the short array and the long one), the deciding key last.
    #[test]
    fn held_fields_decide_with_any_number_of_keys() {
        let set = set();
        let mut held = HeldFields::default();
        for keys in 1..=32 {
            for (tag, want) in [("x", Decision::Allow), ("y", Decision::ImplicitDeny)] {
                let mut fields = vec!["".to_string(), "s3:GetObject".into(), "*".into()];
                for k in 1..keys {
                    fields.extend([format!("k{k}"), "v".into()]);
                }
                fields.extend(["aws:PrincipalTag/t".into(), tag.into()]);
                let sent: Vec<Option<&str>> = fields.iter().map(|f| Some(f.as_str())).collect();
                let (bytes, spans) = send(&sent);
                held.take(&bytes, &spans).unwrap();
                assert_eq!(held.decide(&set, None), Ok(want), "{keys} keys");
                assert_eq!(set.decide_fields(&fields.join("\u{1f}")), Ok(want));
            }
        }
    }

    /// Fields anywhere in the buffer, in any order, overlapping, with bytes that are not UTF-8 between them or
    /// without.
    #[test]
    fn fields_lie_anywhere_in_the_buffer() {
        let set = set();
        let mut held = HeldFields::default();
        for gap in [&b""[..], b"\xff", b"\xc3"] {
            let mut bytes = Vec::from("x".as_bytes());
            bytes.extend_from_slice(gap);
            let at = |bytes: &mut Vec<u8>, t: &str| {
                let start = bytes.len() as u32;
                bytes.extend_from_slice(t.as_bytes());
                [start, t.len() as u32]
            };
            let (value, key) = (at(&mut bytes, "x"), at(&mut bytes, "aws:PrincipalTag/t"));
            let (resource, action) = (at(&mut bytes, "*"), at(&mut bytes, "s3:GetObject"));
            let spans = [[0, 0], action, resource, key, value].concat();
            held.take(&bytes, &spans).unwrap();
            assert_eq!(held.decide(&set, None), Ok(Decision::Allow), "{gap:?}");
            // The value `x` is also the buffer's first byte.
            let spans = [[0, 0], action, resource, key, [0, 1]].concat();
            held.take(&bytes, &spans).unwrap();
            assert_eq!(held.decide(&set, None), Ok(Decision::Allow), "{gap:?}");
            // The first two bytes: `x` and the gap's first byte, if any.
            let spans = [[0, 0], action, resource, key, [0, 2]].concat();
            let want = match gap {
                [] => Ok(()), // `xx`
                _ => Err("field 4 is not UTF-8".to_string()),
            };
            assert_eq!(
                held.take(&bytes, &spans).map_err(|e| e.message),
                want,
                "{gap:?}"
            );
        }
    }

    #[test]
    fn malformed_spans_are_refused_and_forget_every_field() {
        let set = set();
        let mut held = HeldFields::default();
        let refused = |held: &mut HeldFields, bytes: &[u8], spans: &[u32]| {
            let m = held.take(bytes, spans).unwrap_err().message;
            assert_eq!(
                held.decide(&set, None).unwrap_err().message,
                "expected principal, action and resource"
            );
            m
        };
        let (bytes, spans) = send(&[Some(""), Some("s3:GetObject"), Some("*")]);
        assert_eq!(
            refused(&mut held, &bytes, &spans[..4]),
            "expected principal, action and resource"
        );
        assert_eq!(
            refused(&mut held, &bytes, &[KEPT, 0, KEPT, 0, KEPT, 0]),
            "field 0 is kept but none is held"
        );
        held.take(&bytes, &spans).unwrap();
        assert_eq!(held.decide(&set, None), Ok(Decision::ImplicitDeny));
        assert_eq!(
            refused(&mut held, &bytes, &[0, 0, 0, 12, 12, 2]),
            "field 2 is out of bounds"
        );
        assert_eq!(
            refused(&mut held, &bytes, &[0, 0, 0, 12, u32::MAX - 1, 2]),
            "field 2 is out of bounds"
        );
        // The refusal forgot the held fields: keeping them is now refused too.
        assert_eq!(
            refused(&mut held, &bytes, &[KEPT, 0, KEPT, 0, KEPT, 0]),
            "field 0 is kept but none is held"
        );
        let (bad, spans) = send(&[Some(""), Some("s3:GetObject"), Some("é")]);
        let cut = [spans.get(..4).unwrap(), &[spans[4], 1]].concat();
        assert_eq!(refused(&mut held, &bad, &cut), "field 2 is not UTF-8");
        // Valid UTF-8 as a whole, but a field that starts inside `é`.
        let bytes = "s3:GetObjecté*".as_bytes();
        assert_eq!(
            refused(&mut held, bytes, &[0, 0, 0, 12, 13, 2]),
            "field 2 is not UTF-8"
        );
        let (bytes, spans) = send(&[
            Some(""),
            Some("s3:GetObject"),
            Some("*"),
            Some("aws:PrincipalTag/t"),
        ]);
        assert_eq!(
            refused(&mut held, &bytes, &spans),
            "context key `aws:PrincipalTag/t` has no value"
        );
        let many: Vec<String> = (0..66).map(|i| format!("f{i}")).collect();
        let fields: Vec<Option<&str>> = std::iter::once(Some(""))
            .chain(many.iter().map(|f| Some(f.as_str())))
            .collect();
        let (bytes, spans) = send(&fields);
        assert_eq!(spans.len(), 2 * 67);
        held.take(&bytes, &spans).unwrap();
        let (bytes, spans) = send(&[fields.as_slice(), &[Some("k"), Some("v")]].concat());
        assert_eq!(
            refused(&mut held, &bytes, &spans),
            "more than 32 context keys"
        );
    }
}
