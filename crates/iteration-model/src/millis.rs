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

    /// The time as RFC 3339 text in UTC with microseconds, as LaunchDarkly
    /// writes dates that are not epoch milliseconds
    /// (`2021-08-05T19:46:31.148000+00:00`).
    ///
    /// ```
    /// use iteration_model::UnixMillis;
    ///
    /// assert_eq!(UnixMillis(1_654_104_600_000).to_rfc3339(), "2022-06-01T17:30:00.000000+00:00");
    /// assert_eq!(UnixMillis(-1).to_rfc3339(), "1969-12-31T23:59:59.999000+00:00");
    /// ```
    pub fn to_rfc3339(self) -> String {
        let (days, millis_of_day) = (self.0.div_euclid(86_400_000), self.0.rem_euclid(86_400_000));
        let (year, month, day) = civil_from_days(days);
        let seconds = millis_of_day / 1000;
        format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}000+00:00",
            seconds / 3600,
            seconds / 60 % 60,
            seconds % 60,
            millis_of_day % 1000
        )
    }
}

/// The proleptic Gregorian (year, month, day) of a count of days since
/// 1970-01-01, by the usual era arithmetic: 400-year eras of 146097 days,
/// with years counted from March so that the leap day ends the year.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
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
