//! Traffic allocation as an exact decimal percentage.
//!
//! `"33.33" + "33.33" + "33.34"` must be exactly 100. Binary floating point
//! gets that wrong, so a percentage is kept as an integer count of
//! ten-thousandths of a percent, with the number of decimals it was given.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// The most decimal places an allocation may have.
pub const MAX_DECIMALS: u8 = 4;
const UNITS_PER_PERCENT: u64 = 10_000;
const MAX_UNITS: u32 = 100 * UNITS_PER_PERCENT as u32;

/// A treatment's share of traffic: a decimal in `[0, 100]` with at most four
/// decimal places (`allocationPercent` on the wire, where it is a string).
///
/// Reads `"50"`, `"33.33"` or a JSON number, and writes a string with the
/// decimals it was given (`"50"`, `"33.30"`), never a float.
///
/// ```
/// use iteration_model::AllocationPercent;
///
/// let parts = ["33.33", "33.33", "33.34"].map(|p| p.parse::<AllocationPercent>().unwrap());
/// assert!(AllocationPercent::total(&parts).is_hundred());
/// assert_eq!(parts[0].to_string(), "33.33");
/// assert!("100.5".parse::<AllocationPercent>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AllocationPercent {
    units: u32,
    decimals: u8,
}

/// Why a value is not an [`AllocationPercent`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidAllocation {
    /// Not a plain decimal number.
    #[error("{0:?} is not a decimal number such as \"50\" or \"33.33\"")]
    NotDecimal(String),
    /// More than four decimal places.
    #[error("{0:?} has more than 4 decimal places")]
    TooPrecise(String),
    /// Below 0 or above 100.
    #[error("{0:?} is outside 0 to 100")]
    OutOfRange(String),
}

impl AllocationPercent {
    /// No traffic.
    pub const ZERO: AllocationPercent = AllocationPercent { units: 0, decimals: 0 };
    /// All traffic.
    pub const HUNDRED: AllocationPercent = AllocationPercent { units: MAX_UNITS, decimals: 0 };

    /// A whole percentage, `0..=100`.
    pub fn whole(percent: u8) -> Result<AllocationPercent, InvalidAllocation> {
        if percent > 100 {
            return Err(InvalidAllocation::OutOfRange(percent.to_string()));
        }
        Ok(AllocationPercent { units: u32::from(percent) * UNITS_PER_PERCENT as u32, decimals: 0 })
    }

    /// Parses a decimal string: digits, optionally a point and 1 to 4 digits.
    pub fn parse(text: &str) -> Result<AllocationPercent, InvalidAllocation> {
        let not_decimal = || InvalidAllocation::NotDecimal(text.to_owned());
        let (whole, fraction) = match text.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (text, None),
        };
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        // "-5" is a decimal, just not a percentage; say which.
        if let Some(magnitude) = text.strip_prefix('-') {
            if AllocationPercent::parse(magnitude).is_ok_and(|p| !p.is_zero()) {
                return Err(InvalidAllocation::OutOfRange(text.to_owned()));
            }
        }
        if !all_digits(whole) || fraction.is_some_and(|f| !all_digits(f)) {
            return Err(not_decimal());
        }
        let fraction = fraction.unwrap_or("");
        if fraction.len() > usize::from(MAX_DECIMALS) {
            return Err(InvalidAllocation::TooPrecise(text.to_owned()));
        }
        let whole_digits = whole.trim_start_matches('0');
        if whole_digits.len() > 3 {
            return Err(InvalidAllocation::OutOfRange(text.to_owned()));
        }
        let mut units: u64 = whole_digits.bytes().fold(0, |n, b| n * 10 + u64::from(b - b'0'));
        units *= UNITS_PER_PERCENT;
        let mut scale = UNITS_PER_PERCENT;
        for b in fraction.bytes() {
            scale /= 10;
            units += u64::from(b - b'0') * scale;
        }
        if units > u64::from(MAX_UNITS) {
            return Err(InvalidAllocation::OutOfRange(text.to_owned()));
        }
        // The checks above bound units by MAX_UNITS, so it fits in u32, and
        // fraction.len() is at most MAX_DECIMALS.
        Ok(AllocationPercent { units: units as u32, decimals: fraction.len() as u8 })
    }

    /// Ten-thousandths of a percent: `"33.33"` is 333 300.
    pub fn units(self) -> u32 {
        self.units
    }

    /// Whether this allocation sends any traffic.
    pub fn is_zero(self) -> bool {
        self.units == 0
    }

    /// The exact sum of some allocations.
    pub fn total<'a>(parts: impl IntoIterator<Item = &'a AllocationPercent>) -> AllocationTotal {
        AllocationTotal { units: parts.into_iter().map(|p| u64::from(p.units)).sum() }
    }
}

impl Default for AllocationPercent {
    fn default() -> Self {
        AllocationPercent::ZERO
    }
}

impl std::str::FromStr for AllocationPercent {
    type Err = InvalidAllocation;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        AllocationPercent::parse(text)
    }
}

impl TryFrom<&str> for AllocationPercent {
    type Error = InvalidAllocation;
    fn try_from(text: &str) -> Result<Self, Self::Error> {
        AllocationPercent::parse(text)
    }
}

impl fmt::Display for AllocationPercent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_decimal(f, u64::from(self.units), self.decimals)
    }
}

fn write_decimal(f: &mut fmt::Formatter<'_>, units: u64, decimals: u8) -> fmt::Result {
    let whole = units / UNITS_PER_PERCENT;
    if decimals == 0 {
        return write!(f, "{whole}");
    }
    let fraction = units % UNITS_PER_PERCENT;
    let shown = fraction / 10u64.pow(u32::from(MAX_DECIMALS - decimals));
    write!(f, "{whole}.{shown:0width$}", width = usize::from(decimals))
}

/// The exact sum of several [`AllocationPercent`]s; it may exceed 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AllocationTotal {
    units: u64,
}

impl AllocationTotal {
    /// Whether the sum is exactly 100.
    pub fn is_hundred(self) -> bool {
        self.units == u64::from(MAX_UNITS)
    }

    /// Ten-thousandths of a percent.
    pub fn units(self) -> u64 {
        self.units
    }
}

impl fmt::Display for AllocationTotal {
    /// The shortest exact decimal: `100`, `90.5`, `99.9999`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut decimals = MAX_DECIMALS;
        let mut fraction = self.units % UNITS_PER_PERCENT;
        while decimals > 0 && fraction % 10 == 0 {
            fraction /= 10;
            decimals -= 1;
        }
        write_decimal(f, self.units, decimals)
    }
}

impl Serialize for AllocationPercent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AllocationPercent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = AllocationPercent;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a percentage such as \"50\" or \"33.33\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                AllocationPercent::parse(v).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                AllocationPercent::parse(&v.to_string()).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                if v < 0 {
                    return Err(E::custom(InvalidAllocation::OutOfRange(v.to_string())));
                }
                AllocationPercent::parse(&v.to_string()).map_err(E::custom)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                AllocationPercent::from_json_number(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl AllocationPercent {
    /// Reads a JSON number as the decimal it is written as: the shortest
    /// representation that round-trips, so `33.33` reads as `"33.33"`.
    pub(crate) fn from_json_number(v: f64) -> Result<AllocationPercent, InvalidAllocation> {
        let text = serde_json::Number::from_f64(v).map(|n| n.to_string()).unwrap_or_else(|| v.to_string());
        if v < 0.0 {
            return Err(InvalidAllocation::OutOfRange(text));
        }
        // `serde_json` writes whole floats as `50.0`; keep the decimals the
        // sender wrote, which for a whole float is none.
        let text = text.strip_suffix(".0").map(str::to_owned).unwrap_or(text);
        AllocationPercent::parse(&text)
    }

    /// Reads a JSON value: a decimal string or a number.
    pub(crate) fn from_json_value(value: &serde_json::Value) -> Result<AllocationPercent, InvalidAllocation> {
        match value {
            serde_json::Value::String(text) => AllocationPercent::parse(text),
            serde_json::Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(whole), _, _) => AllocationPercent::parse(&whole.to_string()),
                // A negative integer: say so in the sender's own words, not
                // as the float it would become.
                (None, Some(_), _) => Err(InvalidAllocation::OutOfRange(n.to_string())),
                (None, None, Some(float)) => AllocationPercent::from_json_number(float),
                (None, None, None) => Err(InvalidAllocation::NotDecimal(n.to_string())),
            },
            other => Err(InvalidAllocation::NotDecimal(other.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_writes_as_given() {
        for (text, shown) in [
            ("50", "50"),
            ("33.33", "33.33"),
            ("0", "0"),
            ("100", "100"),
            ("12.50", "12.50"),
            ("007", "7"),
            ("0.0001", "0.0001"),
        ] {
            assert_eq!(AllocationPercent::parse(text).unwrap().to_string(), shown, "{text}");
        }
    }

    #[test]
    fn rejects_what_is_not_a_percentage() {
        use InvalidAllocation::*;
        for (text, err) in [
            ("", NotDecimal(String::new())),
            ("abc", NotDecimal("abc".into())),
            ("-1", OutOfRange("-1".into())),
            ("-0", NotDecimal("-0".into())),
            ("+1", NotDecimal("+1".into())),
            ("1e2", NotDecimal("1e2".into())),
            (".5", NotDecimal(".5".into())),
            ("5.", NotDecimal("5.".into())),
            (" 5", NotDecimal(" 5".into())),
            ("33.33333", TooPrecise("33.33333".into())),
            ("100.0001", OutOfRange("100.0001".into())),
            ("1000", OutOfRange("1000".into())),
            ("99999999999999999999999", OutOfRange("99999999999999999999999".into())),
        ] {
            assert_eq!(AllocationPercent::parse(text), Err(err), "{text:?}");
        }
    }

    #[test]
    fn sums_exactly() {
        let parts: Vec<_> = ["33.33", "33.33", "33.34"].iter().map(|p| p.parse().unwrap()).collect();
        let total = AllocationPercent::total(&parts);
        assert!(total.is_hundred());
        assert_eq!(total.to_string(), "100");
        let parts: Vec<AllocationPercent> = ["10", "80.5"].iter().map(|p| p.parse().unwrap()).collect();
        assert_eq!(AllocationPercent::total(&parts).to_string(), "90.5");
    }

    #[test]
    fn reads_numbers_and_strings() {
        let cases = [("\"50\"", "50"), ("50", "50"), ("33.33", "33.33"), ("50.0", "50"), ("12.5", "12.5")];
        for (json, shown) in cases {
            let p: AllocationPercent = serde_json::from_str(json).unwrap();
            assert_eq!(p.to_string(), shown, "{json}");
            assert_eq!(serde_json::to_string(&p).unwrap(), format!("\"{shown}\""));
        }
        let err = serde_json::from_str::<AllocationPercent>("-5").unwrap_err();
        assert_eq!(err.to_string(), "\"-5\" is outside 0 to 100 at line 1 column 2");
        assert!(serde_json::from_str::<AllocationPercent>("true").is_err());
    }
}
