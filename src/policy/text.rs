//! [`Text`]: a string of a policy, usually a slice of the policy's source shared with it rather than a copy.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// A string from a policy. Most are slices of the source text the policy keeps anyway (strings without escapes,
/// numbers), which costs a reference count instead of an allocation and a copy; the rest own their text.
/// Behaves as a `&str` (`Deref`, `Display`, comparisons by text; `Debug` as the string).
///
/// ```
/// use iamgate::policy::Text;
/// let t = Text::from("aws:SourceIp");
/// assert_eq!(t, "aws:SourceIp");
/// assert_eq!(t.len(), 12);
/// assert_eq!(format!("{t:?}"), "\"aws:SourceIp\"");
/// ```
#[derive(Clone)]
pub struct Text(Repr);

#[derive(Clone)]
enum Repr {
    /// `source[start..end]`.
    // INVARIANT: `start..end` is in bounds of `source` and on char boundaries (checked at construction).
    Shared {
        source: Arc<str>,
        start: u32,
        end: u32,
    },
    Owned(Box<str>),
}

impl Text {
    /// `source[range]`, shared; a copy when the range does not fit in 32 bits. `None` when the range is not a
    /// slice of `source`.
    pub(crate) fn shared(source: &Arc<str>, start: usize, end: usize) -> Option<Text> {
        let text = source.get(start..end)?;
        Some(match (u32::try_from(start), u32::try_from(end)) {
            (Ok(start), Ok(end)) => Text(Repr::Shared {
                source: Arc::clone(source),
                start,
                end,
            }),
            _ => Text::from(text),
        })
    }

    /// The shared source and where the text lies in it; `None` for a copy.
    pub(crate) fn shared_range(&self) -> Option<(&Arc<str>, usize, usize)> {
        match &self.0 {
            Repr::Shared { source, start, end } => Some((source, *start as usize, *end as usize)),
            Repr::Owned(_) => None,
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Shared { source, start, end } => source
                .get(*start as usize..*end as usize)
                .unwrap_or_default(),
            Repr::Owned(s) => s,
        }
    }
}

impl Deref for Text {
    type Target = str;
    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text(Repr::Owned(s.into()))
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text(Repr::Owned(s.into_boxed_str()))
    }
}

impl From<Text> for String {
    fn from(t: Text) -> String {
        t.as_str().to_string()
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<Text> for str {
    fn eq(&self, other: &Text) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Text> for &str {
    fn eq(&self, other: &Text) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<Text> for String {
    fn eq(&self, other: &Text) -> bool {
        self == other.as_str()
    }
}

impl std::hash::Hash for Text {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_and_owned_agree() {
        let source: Arc<str> = Arc::from("{\"a\": \"héllo\"}");
        let t = Text::shared(&source, 7, 13).unwrap_or_else(|| Text::from("?"));
        assert_eq!(t, "héllo");
        assert_eq!(t, Text::from("héllo"));
        assert_eq!(t.clone().as_str(), "héllo");
        assert_eq!(format!("{t:?}"), format!("{:?}", "héllo"));
        assert_eq!(t.to_string(), "héllo");
        assert!(Text::shared(&source, 9, 13).is_none());
        assert!(Text::shared(&source, 7, 99).is_none());
    }
}
