//! Reading a call's input with the crate's own JSON parser ([`crate::parse::json`]) rather than serde's derive:
//! the WebAssembly package then carries one JSON reader instead of two (serde_json's deserializer, its float
//! parsing and the float printing its error messages pull in were about a tenth of the module), and every error
//! is placed at the offending value.

use super::ApiError;
use super::place::place;
use crate::limits::Limits;
use crate::map::Texts;
use crate::parse::json::{Arena, Member, Node, Value, parse};
use crate::parse::placed::{BadField, bad_field};
use std::borrow::Cow;

/// A document given in the input either as a JSON object (its exact text there) or as a string holding its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doc<'a> {
    /// The value's exact JSON text in the input.
    pub raw: &'a str,
    /// The string's content, when the value is a string.
    pub string: Option<Cow<'a, str>>,
}

impl Doc<'_> {
    /// The document's text: the string's content, or the value's own text.
    pub fn text(&self) -> &str {
        self.string.as_deref().unwrap_or(self.raw)
    }

    /// The text of a policy, which must be an object or a string.
    pub(crate) fn policy_text(&self) -> Result<&str, &'static str> {
        match &self.string {
            Some(s) => Ok(s),
            None if self.raw.starts_with('{') => Ok(self.raw),
            None => Err("a policy must be a JSON object or a string holding the policy text"),
        }
    }
}

/// A call's input, parsed: values are read from it by JSON path, each error placed at the value.
pub(crate) struct Reader<'a> {
    text: &'a str,
}

/// The envelope may hold several policies and feeds: far more than one policy's 1 MiB, and one level of nesting
/// per list around them. Each policy is parsed again under the policy limits.
const ENVELOPE: Limits = Limits {
    max_document_bytes: 64 << 20,
    max_depth: 64,
    max_statements: 4096,
    max_pattern_bytes: 8192,
};

impl<'a> Reader<'a> {
    /// Parse `text`; a malformed input is one error placed in it.
    pub(crate) fn parse<'t>(
        text: &'a str,
        arena: &'t Arena,
    ) -> Result<(Self, Node<'t>), Vec<ApiError>>
    where
        'a: 't,
    {
        let root = parse(text, arena, &ENVELOPE).map_err(|e| {
            let mut err = ApiError::new(format!("invalid input: {}", e.message))
                .at(place(text, e.offset, e.offset));
            err.help = e.help;
            vec![err]
        })?;
        Ok((Reader { text }, root))
    }

    fn err(&self, node: &Node<'_>, path: &str, message: String) -> Vec<ApiError> {
        let at = node.span.start as usize;
        vec![
            ApiError::new(format!("invalid input: {message}"))
                .path(path)
                .at(place(self.text, at, at)),
        ]
    }

    /// The members of an object, each name one of `fields` and none twice.
    pub(crate) fn object<'t>(
        &self,
        node: &Node<'t>,
        path: &str,
        fields: &[&str],
    ) -> Result<&'t [Member<'t>], Vec<ApiError>> {
        let Value::Object(members) = node.value else {
            return Err(self.err(
                node,
                path,
                format!("expected an object, found {}", node.kind_name()),
            ));
        };
        if let Some((m, bad)) = bad_field(members, fields) {
            let message = match bad {
                BadField::Unknown => format!(
                    "unknown field `{}`, expected one of `{}`",
                    m.key,
                    fields.join("`, `")
                ),
                BadField::Twice => format!("duplicate field `{}`", m.key),
            };
            let start = m.key_span.start as usize;
            return Err(vec![
                ApiError::new(format!("invalid input: {message}"))
                    .path(format!("{path}.{}", m.key))
                    .at(place(self.text, start, m.key_span.end as usize)),
            ]);
        }
        Ok(members)
    }

    /// `s`, a string of the tree: the same bytes of the input when it is a slice of it (a string without
    /// escapes), else a copy (an unescaped string lives in the tree's arena, which the input outlives).
    fn in_text(&self, s: &str) -> Cow<'a, str> {
        let at = (s.as_ptr() as usize).wrapping_sub(self.text.as_ptr() as usize);
        match self.text.get(at..at.wrapping_add(s.len())) {
            Some(t) if std::ptr::eq(t.as_ptr(), s.as_ptr()) => Cow::Borrowed(t),
            _ => Cow::Owned(s.to_owned()),
        }
    }

    /// A string's content: borrowed from the input when it is written there without escapes.
    pub(crate) fn string(
        &self,
        node: &Node<'_>,
        path: &str,
    ) -> Result<Cow<'a, str>, Vec<ApiError>> {
        match node.value {
            Value::String(s) => Ok(self.in_text(s)),
            v => Err(self.err(
                node,
                path,
                format!("expected a string, found {}", v.kind_name()),
            )),
        }
    }

    /// A string's content, or nothing for `null`.
    pub(crate) fn opt_string(
        &self,
        node: &Node<'_>,
        path: &str,
    ) -> Result<Option<Cow<'a, str>>, Vec<ApiError>> {
        if node.is_null() {
            return Ok(None);
        }
        self.string(node, path).map(Some)
    }

    /// An array's elements, or none for `null`.
    pub(crate) fn array<'t>(
        &self,
        node: &Node<'t>,
        path: &str,
    ) -> Result<&'t [Node<'t>], Vec<ApiError>> {
        match node.value {
            Value::Array(items) => Ok(items),
            Value::Null => Ok(&[]),
            v => Err(self.err(
                node,
                path,
                format!("expected an array, found {}", v.kind_name()),
            )),
        }
    }

    /// A value kept as a document: its text, and a string's content.
    pub(crate) fn doc(&self, node: &Node<'_>) -> Doc<'a> {
        Doc {
            raw: self.text.get(node.span.range()).unwrap_or_default(),
            string: match node.value {
                Value::String(s) => Some(self.in_text(s)),
                _ => None,
            },
        }
    }

    /// [`Reader::doc`], or nothing for `null`.
    pub(crate) fn opt_doc(&self, node: &Node<'_>) -> Option<Doc<'a>> {
        (!node.is_null()).then(|| self.doc(node))
    }

    /// An array of documents (`null`: none).
    pub(crate) fn docs(&self, node: &Node<'_>, path: &str) -> Result<Vec<Doc<'a>>, Vec<ApiError>> {
        Ok(self
            .array(node, path)?
            .iter()
            .map(|n| self.doc(n))
            .collect())
    }

    /// An object of strings, by name (`null`: none; a name given twice keeps its last value).
    pub(crate) fn strings(&self, node: &Node<'_>, path: &str) -> Result<Texts, Vec<ApiError>> {
        if node.is_null() {
            return Ok(Texts::new());
        }
        let Value::Object(members) = &node.value else {
            return Err(self.err(
                node,
                path,
                format!("expected an object, found {}", node.kind_name()),
            ));
        };
        // Inserted one by one: `collect` into a map sorts first, a sort the module would carry for this alone.
        let mut out = Texts::new();
        for m in *members {
            let value = self.string(&m.value, &format!("{path}.{}", m.key))?;
            out.insert(m.key.to_string(), value.into_owned());
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str, fields: &[&str]) -> Vec<ApiError> {
        let arena = crate::parse::json::Arena::new();
        let (r, root) = match Reader::parse(text, &arena) {
            Ok(x) => x,
            Err(e) => return e,
        };
        r.object(&root, "$", fields).err().unwrap_or_default()
    }

    #[test]
    fn unknown_and_repeated_fields_are_placed_at_their_names() {
        let e = errors("{\"a\": 1,\n \"b\": 2}", &["a"]);
        assert_eq!(e[0].path.as_deref(), Some("$.b"));
        assert!(
            e[0].message
                .starts_with("invalid input: unknown field `b`, expected one of `a`")
        );
        let p = e[0].place.unwrap();
        assert_eq!((p.line, p.column, p.end_column), (2, 2, 5));
        let e = errors(r#"{"a": 1, "a": 2}"#, &["a"]);
        assert_eq!(e[0].message, "invalid input: duplicate field `a`");
        assert_eq!(e[0].place.unwrap().span.start, 9);
        let e = errors("[1]", &["a"]);
        assert_eq!(
            e[0].message,
            "invalid input: expected an object, found array"
        );
        let e = errors("{\"a\": ", &["a"]);
        assert!(e[0].message.starts_with("invalid input: "));
        assert_eq!(e[0].place.unwrap().span.start, 6);
        assert!(errors(r#"{"a": 1}"#, &["a"]).is_empty());
    }

    #[test]
    fn documents_are_their_exact_text_or_the_string_content() {
        let text = r#"{"o": {"x": [1, 2]}, "s": "{\"y\": \"\u00e9\"}", "n": 7, "z": null}"#;
        let arena = crate::parse::json::Arena::new();
        let (r, root) = Reader::parse(text, &arena).unwrap();
        let get = |k: &str| root.get(k).unwrap();
        let o = r.doc(get("o"));
        assert_eq!(o.text(), r#"{"x": [1, 2]}"#);
        assert_eq!(o.policy_text(), Ok(r#"{"x": [1, 2]}"#));
        let s = r.doc(get("s"));
        assert_eq!(s.text(), "{\"y\": \"\u{e9}\"}");
        assert_eq!(s.policy_text(), Ok("{\"y\": \"\u{e9}\"}"));
        let n = r.doc(get("n"));
        assert_eq!(n.text(), "7");
        assert!(n.policy_text().is_err());
        assert_eq!(r.opt_doc(get("z")), None);
        assert_eq!(r.docs(get("z"), "$.z"), Ok(Vec::new()));
        assert_eq!(r.opt_string(get("z"), "$.z"), Ok(None));
        assert_eq!(
            r.string(get("n"), "$.n").unwrap_err()[0].path.as_deref(),
            Some("$.n")
        );
        assert!(r.array(get("z"), "$.z").unwrap().is_empty());
        assert_eq!(
            r.array(get("o"), "$.o").unwrap_err()[0].path.as_deref(),
            Some("$.o")
        );
    }

    /// A string written without escapes is the input's own bytes, whatever arena the tree lives in; one with
    /// an escape is a copy of its unescaped text (the arena goes before the values read from it).
    #[test]
    fn strings_borrow_the_input_or_copy_out_of_the_arena() {
        let text = r#"{"p": "plain", "e": "a\nb", "x": ""}"#;
        let (plain, escaped, empty) = {
            let arena = crate::parse::json::Arena::new();
            let (r, root) = Reader::parse(text, &arena).unwrap();
            let read = |k: &str| r.string(root.get(k).unwrap(), k).unwrap();
            (read("p"), read("e"), read("x"))
        };
        assert!(matches!(&plain, Cow::Borrowed(s) if std::ptr::eq(s.as_ptr(), text[7..].as_ptr())));
        assert!(matches!(&escaped, Cow::Owned(s) if s == "a\nb"));
        assert!(matches!(empty, Cow::Borrowed("")));
    }

    #[test]
    fn feeds_are_an_object_of_strings() {
        let arena = crate::parse::json::Arena::new();
        let (r, root) = Reader::parse(r#"{"b": "y\n", "a": "x", "a": "z"}"#, &arena).unwrap();
        let got = r.strings(&root, "$.feeds").unwrap();
        let want = [("a", "z"), ("b", "y\n")].map(|(k, v)| (k.to_string(), v.to_string()));
        assert_eq!(got, Texts::from(want));
        let arena = crate::parse::json::Arena::new();
        let (r, root) = Reader::parse(r#"{"a": 1}"#, &arena).unwrap();
        assert_eq!(
            r.strings(&root, "$.feeds").unwrap_err()[0].path.as_deref(),
            Some("$.feeds.a")
        );
    }
}
