//! Reading a JSON document of a given shape (a Case, a bundle) from the spanned tree of [`super::json`]: one error
//! type for what is wrong and where, and the object, array and field checks every such reader makes. The Case
//! reader (crate::api::case) and the bundle reader (crate::bundle) share them.

use super::json::{Member, Node, Value};
use crate::span::line_col;
use serde::Serialize;

/// What is wrong in a JSON input and where: a message, its place in the text, and the JSON path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{path}: {message} (line {line}, column {column})")]
pub struct PlacedError {
    /// What is wrong: lowercase, one line.
    pub message: String,
    /// 1-based line in the text.
    pub line: usize,
    /// 1-based column (in characters) in the text.
    pub column: usize,
    /// JSON path of the offending value, e.g. `$.identity_policies[0].Statement[1].Effect`.
    pub path: String,
}

impl PlacedError {
    /// A document of `text` that is not JSON: the parser's error, placed, at the root path `$`.
    pub(crate) fn not_json(text: &str, e: super::json::JsonError) -> Self {
        let (line, column) = e.line_col(text);
        PlacedError {
            message: e.message,
            line,
            column,
            path: "$".into(),
        }
    }

    /// The error `message` at byte `offset` of `text`, for the value at `path`.
    pub(crate) fn at(text: &str, offset: usize, path: &str, message: impl Into<String>) -> Self {
        let (line, column) = line_col(text, offset);
        PlacedError {
            message: message.into(),
            line,
            column,
            path: path.to_string(),
        }
    }
}

/// The members of `node` (in `text`), or an error if it is no object.
pub(crate) fn object<'n, 'a>(
    text: &str,
    node: &'n Node<'a>,
    path: &str,
) -> Result<&'n [Member<'a>], PlacedError> {
    match &node.value {
        Value::Object(m) => Ok(m),
        v => Err(PlacedError::at(
            text,
            node.span.start as usize,
            path,
            format!("expected an object, found {}", v.kind_name()),
        )),
    }
}

/// The items of `node` (in `text`), or an error if it is no array.
pub(crate) fn array<'n, 'a>(
    text: &str,
    node: &'n Node<'a>,
    path: &str,
) -> Result<&'n [Node<'a>], PlacedError> {
    match &node.value {
        Value::Array(a) => Ok(a),
        v => Err(PlacedError::at(
            text,
            node.span.start as usize,
            path,
            format!("expected an array, found {}", v.kind_name()),
        )),
    }
}

/// What is wrong with a member of an object whose fields are fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BadField {
    /// Its name is not one of the fields.
    Unknown,
    /// Its name was written before it in the object.
    Twice,
}

/// The first member of `members` whose name is not one of `fields` or appears twice, and which. Every reader of a
/// fixed-shape object (this module's [`fields`], the JSON API's input) checks its members with this and words the
/// error its own way.
pub(crate) fn bad_field<'m, 'a>(
    members: &'m [Member<'a>],
    fields: &[&str],
) -> Option<(&'m Member<'a>, BadField)> {
    // The first member that is unknown or repeated stops the loop, so the members compared with the earlier ones
    // are at most as many as `fields`.
    members.iter().enumerate().find_map(|(i, m)| {
        if !fields.contains(&m.key) {
            return Some((m, BadField::Unknown));
        }
        let earlier = members.get(..i).unwrap_or_default();
        earlier
            .iter()
            .any(|e| e.key == m.key)
            .then_some((m, BadField::Twice))
    })
}

/// An error for the first member of an object at `path` that is not one of `fields`, or that appears twice.
pub(crate) fn fields(
    text: &str,
    members: &[Member<'_>],
    path: &str,
    fields: &[&str],
) -> Result<(), PlacedError> {
    let Some((m, bad)) = bad_field(members, fields) else {
        return Ok(());
    };
    let message = match bad {
        BadField::Unknown => format!(
            "unknown field `{}`; valid fields are {}",
            m.key,
            fields.join(", ")
        ),
        BadField::Twice => format!("field `{}` appears twice", m.key),
    };
    Err(PlacedError::at(
        text,
        m.key_span.start as usize,
        &format!("{path}.{}", m.key),
        message,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Limits;

    #[test]
    fn placed_errors_name_line_column_and_path() {
        let text = "{\n  \"a\": 1,\n  \"b\": [],\n  \"a\": 2}";
        let arena = crate::parse::json::Arena::new();
        let root = crate::parse::json::parse(text, &arena, &Limits::default()).unwrap();
        let members = object(text, &root, "$").unwrap();
        let e = fields(text, members, "$", &["a", "c"]).unwrap_err();
        assert_eq!(
            (e.message.as_str(), e.line, e.column, e.path.as_str()),
            ("unknown field `b`; valid fields are a, c", 3, 3, "$.b")
        );
        let e = fields(text, members, "$", &["a", "b"]).unwrap_err();
        assert_eq!(
            (e.message.as_str(), e.line, e.path.as_str()),
            ("field `a` appears twice", 4, "$.a")
        );
        let e = array(text, &members[0].value, "$.a").unwrap_err();
        assert_eq!(
            e.to_string(),
            "$.a: expected an array, found number (line 2, column 8)"
        );
        assert!(array(text, &members[1].value, "$.b").unwrap().is_empty());
    }
}
