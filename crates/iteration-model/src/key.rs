//! Keys of projects, environments, experiments, flags and metrics.

use std::{borrow::Borrow, fmt, ops::Deref};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The longest key the API accepts.
pub const MAX_KEY_LEN: usize = 256;

/// A key as the API accepts it: 1 to 256 characters from `A-Z a-z 0-9 . _ -`.
///
/// A `Key` that exists is valid, so it can go into a URL path as it is.
///
/// ```
/// use iteration_model::Key;
///
/// assert!(Key::new("metric-key-123abc").is_ok());
/// let err = Key::new("no spaces").unwrap_err();
/// assert_eq!(err.to_string(), "\"no spaces\" is not a valid key: use 1 to 256 of A-Z a-z 0-9 . _ -");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key(String);

/// Why a string is not a [`Key`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a valid key: use 1 to 256 of A-Z a-z 0-9 . _ -")]
pub struct InvalidKey(pub String);

impl Key {
    /// Checks `key` and wraps it.
    pub fn new(key: impl Into<String>) -> Result<Key, InvalidKey> {
        let key = key.into();
        if is_valid_key(&key) { Ok(Key(key)) } else { Err(InvalidKey(key)) }
    }

    /// The key as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key as an owned string.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// Whether `key` is 1 to 256 characters from `A-Z a-z 0-9 . _ -`.
pub fn is_valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= MAX_KEY_LEN
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

impl TryFrom<&str> for Key {
    type Error = InvalidKey;
    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Key::new(value)
    }
}

impl TryFrom<String> for Key {
    type Error = InvalidKey;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Key::new(value)
    }
}

impl std::str::FromStr for Key {
    type Err = InvalidKey;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Key::new(value)
    }
}

impl Deref for Key {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Key {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Key {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for Key {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Key {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Key {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let key = String::deserialize(deserializer)?;
        Key::new(key).map_err(serde::de::Error::custom)
    }
}
