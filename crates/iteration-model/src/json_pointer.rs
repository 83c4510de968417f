//! JSON Pointers as a type whose values are valid.
//!
//! A pointer is kept in its written (escaped) form. Each decoded reference
//! token has exactly one escaped spelling (`~` only as `~0`, `/` only as
//! `~1`), so two pointers name the same location exactly when their texts
//! are equal, and one lies under another exactly when its text continues the
//! other's with a `/`. That lets the patch code compare pointers as strings.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A JSON Pointer such as `/variations/0/value`: empty for the whole
/// document, else `/`-separated reference tokens in which `~` appears only
/// as `~0` (a `~` in the name) or `~1` (a `/` in the name).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct JsonPointer(String);

/// Why a text is not a JSON Pointer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidPointer {
    /// The text is neither empty nor starts with `/`.
    #[error(
        "`{0}` is not a JSON Pointer: it must be empty (the whole document) or start with `/`, as in `/{0}`"
    )]
    NoLeadingSlash(String),
    /// A `~` is not followed by `0` or `1`.
    #[error(
        "`{pointer}` is not a JSON Pointer: the `~` at byte {at} is not followed by 0 or 1; \
         write `~` in a name as `~0` and `/` in a name as `~1`"
    )]
    BadEscape {
        /// The text.
        pointer: String,
        /// The byte offset of the `~`.
        at: usize,
    },
}

impl JsonPointer {
    /// The empty pointer, which names the whole document.
    pub fn root() -> JsonPointer {
        JsonPointer(String::new())
    }

    /// Reads `text` as a JSON Pointer.
    pub fn parse(text: &str) -> Result<JsonPointer, InvalidPointer> {
        starts_at_root(text)?;
        escapes_are_complete(text)?;
        Ok(JsonPointer(text.to_owned()))
    }

    /// The pointer as written, with `~0` and `~1` escapes.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is the empty pointer, the whole document.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The pointer to the member or item `token` (unescaped) of this location.
    pub fn join(&self, token: impl fmt::Display) -> JsonPointer {
        JsonPointer(crate::violation::pointer(&self.0, token))
    }

    /// The reference tokens, unescaped: `/a~1b/0` gives `a/b` and `0`.
    pub fn tokens(&self) -> impl Iterator<Item = Cow<'_, str>> {
        steps(&self.0).map(|(_, token)| token)
    }

    /// Whether this pointer is `prefix` or lies under it, token by token:
    /// `/key/x` is under `/key`, `/keys` is not. Every pointer is under `""`.
    /// `prefix` is compared as written, with its escapes.
    pub fn is_at_or_under(&self, prefix: &str) -> bool {
        at_or_under(&self.0, prefix)
    }
}

/// The rule that a non-empty pointer starts with `/`.
fn starts_at_root(text: &str) -> Result<(), InvalidPointer> {
    if text.is_empty() || text.starts_with('/') {
        Ok(())
    } else {
        Err(InvalidPointer::NoLeadingSlash(text.to_owned()))
    }
}

/// The rule that `~` is written only as `~0` or `~1`.
fn escapes_are_complete(text: &str) -> Result<(), InvalidPointer> {
    let bytes = text.as_bytes();
    for (at, _) in text.match_indices('~') {
        if !matches!(bytes.get(at + 1), Some(b'0' | b'1')) {
            return Err(InvalidPointer::BadEscape { pointer: text.to_owned(), at });
        }
    }
    Ok(())
}

/// Whether the valid pointer `pointer` is `prefix` or lies under it.
pub(crate) fn at_or_under(pointer: &str, prefix: &str) -> bool {
    pointer.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Each token of the valid pointer `pointer`, unescaped, with the pointer to
/// the location that holds it (its parent).
pub(crate) fn steps(pointer: &str) -> impl Iterator<Item = (&str, Cow<'_, str>)> {
    pointer.match_indices('/').map(move |(start, _)| {
        let rest = &pointer[start + 1..];
        let end = rest.find('/').unwrap_or(rest.len());
        (&pointer[..start], unescape(&rest[..end]))
    })
}

/// The valid pointer `pointer` split into its parent and its last token,
/// unescaped; `None` for the whole document.
pub(crate) fn split_last(pointer: &str) -> Option<(&str, Cow<'_, str>)> {
    let start = pointer.rfind('/')?;
    Some((&pointer[..start], unescape(&pointer[start + 1..])))
}

fn unescape(token: &str) -> Cow<'_, str> {
    if token.contains('~') {
        // `~1` first: undoing `~0` first would turn `~01` into `/`.
        Cow::Owned(token.replace("~1", "/").replace("~0", "~"))
    } else {
        Cow::Borrowed(token)
    }
}

impl fmt::Display for JsonPointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for JsonPointer {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for JsonPointer {
    type Err = InvalidPointer;
    fn from_str(text: &str) -> Result<JsonPointer, InvalidPointer> {
        JsonPointer::parse(text)
    }
}

impl TryFrom<&str> for JsonPointer {
    type Error = InvalidPointer;
    fn try_from(text: &str) -> Result<JsonPointer, InvalidPointer> {
        JsonPointer::parse(text)
    }
}

impl Serialize for JsonPointer {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for JsonPointer {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        JsonPointer::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<String> {
        JsonPointer::parse(text).unwrap().tokens().map(Cow::into_owned).collect()
    }

    #[test]
    fn the_empty_pointer_is_the_whole_document() {
        assert!(JsonPointer::parse("").unwrap().is_root());
        assert_eq!(tokens(""), Vec::<String>::new());
    }

    #[test]
    fn tokens_are_unescaped() {
        assert_eq!(tokens("/a~1b/~0c/0"), ["a/b", "~c", "0"]);
        assert_eq!(tokens("/~01"), ["~1"]);
        assert_eq!(tokens("/"), [""]);
        assert_eq!(tokens("//x/"), ["", "x", ""]);
    }

    #[test]
    fn a_pointer_starts_with_a_slash() {
        let err = JsonPointer::parse("key").unwrap_err();
        assert_eq!(err, InvalidPointer::NoLeadingSlash("key".into()));
        assert_eq!(
            err.to_string(),
            "`key` is not a JSON Pointer: it must be empty (the whole document) or start with `/`, as in `/key`"
        );
    }

    #[test]
    fn a_tilde_is_followed_by_zero_or_one() {
        for (text, at) in [("/a~", 2), ("/a~2", 2), ("/~0/~x", 4)] {
            assert_eq!(
                JsonPointer::parse(text),
                Err(InvalidPointer::BadEscape { pointer: text.into(), at }),
                "{text}"
            );
        }
    }

    #[test]
    fn under_means_token_by_token() {
        let p = JsonPointer::parse("/key/x").unwrap();
        assert!(p.is_at_or_under("/key"));
        assert!(p.is_at_or_under("/key/x"));
        assert!(p.is_at_or_under(""));
        assert!(!p.is_at_or_under("/ke"));
        assert!(!JsonPointer::parse("/keys").unwrap().is_at_or_under("/key"));
    }

    #[test]
    fn join_escapes_the_token() {
        assert_eq!(JsonPointer::root().join("a/b").join("~").as_str(), "/a~1b/~0");
    }

    #[test]
    fn split_last_gives_parent_and_token() {
        assert_eq!(split_last(""), None);
        assert_eq!(split_last("/a"), Some(("", Cow::from("a"))));
        assert_eq!(split_last("/a/b~1c"), Some(("/a", Cow::from("b/c"))));
    }

    #[test]
    fn serde_checks_the_pointer() {
        let p: JsonPointer = serde_json::from_str("\"/a\"").unwrap();
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"/a\"");
        assert!(serde_json::from_str::<JsonPointer>("\"a\"").is_err());
    }
}
