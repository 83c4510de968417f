//! [`Text`]: an immutable string that is cheap to clone.
//!
//! Every new iteration repeats strings of the catalog (metric keys, names,
//! version IDs, a rule's description) and of the model itself (link
//! relations such as `self`, the content type `application/json`). Held as
//! `String`, each of them is a fresh allocation and copy per iteration; held
//! as [`Text`], a copy is a reference count or a pointer copy.

use std::borrow::{Borrow, Cow};
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

/// An immutable string that is cheap to clone: a `&'static str` or a shared
/// `Arc<str>`.
///
/// It reads like a `&str` (it dereferences to one), compares, orders and
/// hashes as its text does (so that a `BTreeMap<Text, _>` or a
/// `HashMap<Text, _>` is looked up by `&str`), and is written and read in
/// JSON as a plain string.
///
/// A clone never copies the text: a static one copies a pointer, a shared
/// one increments a reference count. Making one from a `&str` or a
/// `String` copies the text once.
///
/// # Example
///
/// ```
/// use std::collections::BTreeMap;
///
/// use iteration_model::Text;
///
/// const SELF: Text = Text::from_static("self");
///
/// let name = Text::from(String::from("Example metric"));
/// let shared = name.clone(); // the same allocation, one more reference
/// assert_eq!(shared, "Example metric");
/// assert_eq!(shared.len(), 14);
/// assert!(shared.starts_with("Example"));
///
/// let mut by_rel = BTreeMap::new();
/// by_rel.insert(SELF, "/api/v2/metrics/my-project/metric-key-123abc");
/// assert_eq!(by_rel.get("self"), Some(&"/api/v2/metrics/my-project/metric-key-123abc"));
///
/// assert_eq!(serde_json::to_string(&name)?, r#""Example metric""#);
/// let read: Text = serde_json::from_str(r#""Example metric""#)?;
/// assert_eq!(read, name);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone)]
pub struct Text(Repr);

#[derive(Clone)]
enum Repr {
    Static(&'static str),
    Shared(Arc<str>),
}

impl Text {
    /// The empty text.
    pub const EMPTY: Text = Text::from_static("");

    /// A text of a string that lives as long as the program: making and
    /// cloning it allocate nothing.
    pub const fn from_static(text: &'static str) -> Text {
        Text(Repr::Static(text))
    }

    /// The text as a `&str`.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Static(text) => text,
            Repr::Shared(text) => text,
        }
    }

    /// Whether the text is static, for tests of what allocates.
    #[cfg(test)]
    pub(crate) fn is_static(&self) -> bool {
        matches!(self.0, Repr::Static(_))
    }

    /// The parts joined, in one allocation: no intermediate `String` is
    /// built when the parts fit in a small buffer on the stack.
    pub(crate) fn concat(parts: &[&str]) -> Text {
        const STACK: usize = 256;
        let len: usize = parts.iter().map(|part| part.len()).sum();
        if len <= STACK {
            let mut buffer = [0u8; STACK];
            let mut at = 0;
            for part in parts {
                buffer[at..at + part.len()].copy_from_slice(part.as_bytes());
                at += part.len();
            }
            // The parts are each UTF-8, so their concatenation is too; the
            // check is a scan of a few dozen bytes.
            if let Ok(joined) = std::str::from_utf8(&buffer[..len]) {
                return Text::from(joined);
            }
        }
        Text::from(parts.concat())
    }
}

impl Default for Text {
    /// The empty text, which allocates nothing.
    fn default() -> Text {
        Text::EMPTY
    }
}

impl Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Text) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Text) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

/// As `str` hashes, so that a `HashMap<Text, _>` is looked up by `&str`.
impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

/// `Text == str`, `Text == &str`, `Text == String`, and each the other way
/// round.
macro_rules! eq_with {
    ($($other:ty),*) => {$(
        impl PartialEq<$other> for Text {
            fn eq(&self, other: &$other) -> bool {
                self.as_str() == &other[..]
            }
        }

        impl PartialEq<Text> for $other {
            fn eq(&self, other: &Text) -> bool {
                &self[..] == other.as_str()
            }
        }
    )*};
}

eq_with!(str, &str, String);

impl From<&str> for Text {
    /// Copies the text into a new shared allocation (none when empty).
    fn from(text: &str) -> Text {
        if text.is_empty() { Text::EMPTY } else { Text(Repr::Shared(Arc::from(text))) }
    }
}

impl From<&String> for Text {
    /// Copies the text into a new shared allocation (none when empty).
    fn from(text: &String) -> Text {
        Text::from(text.as_str())
    }
}

impl From<String> for Text {
    /// Moves the text into a shared allocation (none when empty).
    fn from(text: String) -> Text {
        if text.is_empty() { Text::EMPTY } else { Text(Repr::Shared(Arc::from(text))) }
    }
}

impl From<Box<str>> for Text {
    /// Moves the text into a shared allocation (none when empty).
    fn from(text: Box<str>) -> Text {
        if text.is_empty() { Text::EMPTY } else { Text(Repr::Shared(Arc::from(text))) }
    }
}

impl From<Cow<'_, str>> for Text {
    /// Copies or moves the text into a shared allocation (none when empty).
    fn from(text: Cow<'_, str>) -> Text {
        match text {
            Cow::Borrowed(text) => Text::from(text),
            Cow::Owned(text) => Text::from(text),
        }
    }
}

impl From<Arc<str>> for Text {
    /// Shares the allocation: nothing is copied.
    fn from(text: Arc<str>) -> Text {
        Text(Repr::Shared(text))
    }
}

impl From<Text> for String {
    fn from(text: Text) -> String {
        text.as_str().to_owned()
    }
}

impl serde::Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Text {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Text, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Text;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Text, E> {
                Ok(Text::from(text))
            }

            fn visit_string<E: serde::de::Error>(self, text: String) -> Result<Text, E> {
                Ok(Text::from(text))
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

impl crate::json::WriteJson for Text {
    fn write_json(&self, out: &mut Vec<u8>) {
        crate::json::write_str(out, self.as_str());
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};
    use std::hash::DefaultHasher;

    use super::*;

    fn hash_of<T: Hash + ?Sized>(value: &T) -> u64 {
        let mut hasher = DefaultHasher::new();
        value.hash(&mut hasher);
        hasher.finish()
    }

    #[test]
    fn static_and_shared_texts_of_the_same_string_are_equal_and_hash_alike() {
        let fixed = Text::from_static("self");
        let shared = Text::from(String::from("self"));
        assert_eq!(fixed, shared);
        assert_eq!(fixed.cmp(&shared), Ordering::Equal);
        assert_eq!(hash_of(&fixed), hash_of(&shared));
        assert_eq!(hash_of(&shared), hash_of("self"));
        let parent = Text::from("parent");
        assert_ne!(fixed, parent);
        assert!(parent < fixed);
    }

    #[test]
    fn compares_with_every_kind_of_string_both_ways() {
        let text = Text::from("key");
        assert!(text == *"key");
        assert!(*"key" == text);
        assert!(text == "key");
        assert!("key" == text);
        let owned = String::from("key");
        assert!(text == owned);
        assert!(owned == text);
        assert!(text != "other");
        assert_eq!(Some(text).as_deref(), Some("key"));
    }

    #[test]
    fn maps_are_looked_up_by_str() {
        let mut tree = BTreeMap::new();
        tree.insert(Text::from("b"), 2);
        tree.insert(Text::from_static("a"), 1);
        assert_eq!(tree.get("a"), Some(&1));
        assert_eq!(tree.get("b"), Some(&2));
        assert_eq!(tree.keys().map(Text::as_str).collect::<Vec<_>>(), ["a", "b"]);
        let hashed: HashMap<Text, i32> = tree.into_iter().collect();
        assert_eq!(hashed.get("b"), Some(&2));
    }

    #[test]
    fn a_clone_shares_the_allocation() {
        let shared: Arc<str> = Arc::from("Example metric");
        let text = Text::from(Arc::clone(&shared));
        let copy = text.clone();
        assert_eq!(Arc::strong_count(&shared), 3);
        assert!(std::ptr::eq(text.as_str(), copy.as_str()));
        assert!(std::ptr::eq(copy.as_str(), &*shared));
        drop((text, copy));
        assert_eq!(Arc::strong_count(&shared), 1);
    }

    #[test]
    fn converts_from_owned_and_borrowed_strings() {
        assert_eq!(Text::from(String::from("a")), "a");
        assert_eq!(Text::from(&String::from("a")), "a");
        assert_eq!(Text::from(Box::<str>::from("a")), "a");
        assert_eq!(Text::from(Cow::Borrowed("a")), "a");
        assert_eq!(Text::from(Cow::<str>::Owned("a".into())), "a");
        assert_eq!(String::from(Text::from("a")), "a");
        assert_eq!(Text::default(), "");
        assert_eq!(Text::from(String::new()), Text::EMPTY);
        assert_eq!(Text::from("é ✓").as_ref() as &str, "é ✓");
    }

    #[test]
    fn formats_as_the_string() {
        let text = Text::from("quote \" here");
        assert_eq!(format!("{text}"), "quote \" here");
        assert_eq!(format!("{text:?}"), format!("{:?}", "quote \" here"));
        assert_eq!(format!("{:>6}", Text::from_static("ab")), "    ab");
    }

    #[test]
    fn json_is_a_plain_string_as_serde_json_writes_it() {
        let every_ascii: String = (0u8..=0x7f).map(char::from).collect();
        for string in ["", "plain", "quote \" and \\ backslash", "é ✓ 𝄞", &every_ascii] {
            let text = Text::from(string);
            let written = serde_json::to_vec(&text).unwrap();
            assert_eq!(written, serde_json::to_vec(string).unwrap(), "{string:?}");
            assert_eq!(crate::json::to_json_vec(&text), written, "{string:?}");
            assert_eq!(serde_json::from_slice::<Text>(&written).unwrap(), string);
        }
        // Escapes make serde_json hand over an unescaped copy rather than the input.
        assert_eq!(serde_json::from_str::<Text>(r#""a\nb""#).unwrap(), "a\nb");
        assert_eq!(serde_json::from_value::<Text>(serde_json::json!("owned")).unwrap(), "owned");
        let err = serde_json::from_str::<Text>("12").unwrap_err();
        assert!(err.to_string().contains("a string"), "{err}");
    }

    #[test]
    fn concat_joins_in_one_piece_long_or_short() {
        assert_eq!(
            Text::concat(&["/api/v2/metrics/", "my-project", "/", "key"]),
            "/api/v2/metrics/my-project/key"
        );
        assert_eq!(Text::concat(&[]), "");
        let long = "x".repeat(300);
        assert_eq!(Text::concat(&["/", &long, "é"]), format!("/{long}é"));
    }
}
