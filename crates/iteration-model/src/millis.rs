//! Timestamps as the API writes them: epoch milliseconds.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// A point in time as milliseconds since the Unix epoch (`UnixMillis` in the spec).
///
/// The API writes integers, but its documentation shows examples as strings
/// of digits (`"1654104600000"`), and clients generated from that
/// documentation send them. Reading accepts both; writing is always an integer.
///
/// ```
/// use iteration_model::UnixMillis;
///
/// let from_string: UnixMillis = serde_json::from_str(r#""1654104600000""#).unwrap();
/// let from_number: UnixMillis = serde_json::from_str("1654104600000").unwrap();
/// assert_eq!(from_string, from_number);
/// assert_eq!(serde_json::to_string(&from_string).unwrap(), "1654104600000");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixMillis(pub i64);

impl UnixMillis {
    /// The milliseconds since the Unix epoch.
    pub fn get(self) -> i64 {
        self.0
    }

    /// Parses a string of ASCII digits, with an optional leading `-`.
    pub fn parse(text: &str) -> Option<UnixMillis> {
        let digits = text.strip_prefix('-').unwrap_or(text);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        text.parse().ok().map(UnixMillis)
    }
}

impl From<i64> for UnixMillis {
    fn from(millis: i64) -> Self {
        UnixMillis(millis)
    }
}

impl fmt::Display for UnixMillis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Serialize for UnixMillis {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(self.0)
    }
}

impl crate::json::WriteJson for UnixMillis {
    fn write_json(&self, out: &mut Vec<u8>) {
        crate::json::write_i64(out, self.0);
    }
}

impl<'de> Deserialize<'de> for UnixMillis {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = UnixMillis;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("epoch milliseconds, as an integer or a string of digits")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<UnixMillis, E> {
                Ok(UnixMillis(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<UnixMillis, E> {
                i64::try_from(v)
                    .map(UnixMillis)
                    .map_err(|_| E::custom(format_args!("timestamp {v} is out of range")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<UnixMillis, E> {
                UnixMillis::parse(v).ok_or_else(|| {
                    E::custom(format_args!("timestamp {v:?} is not epoch milliseconds (a string of digits)"))
                })
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}
