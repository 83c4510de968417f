//! Violations: what is wrong with an input, where, and why.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::wire::wire_enum;

wire_enum! {
    /// A stable, machine-readable name for a kind of problem. New codes may
    /// be added; a code's meaning never changes.
    pub enum ViolationCode {
        /// A required field is absent.
        MissingField = "missing_field",
        /// A field has the wrong JSON type.
        WrongType = "wrong_type",
        /// An `allocationPercent` is not a decimal in `[0, 100]` with at most 4 decimals.
        InvalidAllocation = "invalid_allocation",
        /// A text field is empty or only white space.
        Blank = "blank",
        /// A key has characters or a length the API does not accept.
        InvalidKey = "invalid_key",
        /// Fewer items than the minimum.
        TooFew = "too_few",
        /// More items than the maximum.
        TooMany = "too_many",
        /// The same key or name twice.
        Duplicate = "duplicate",
        /// A value outside its allowed range.
        OutOfRange = "out_of_range",
        /// A value that is not one of the allowed values.
        NotAllowed = "not_allowed",
    }
}

/// One problem with an input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Violation {
    /// Where: a JSON Pointer into the input, such as `/treatments/1/allocationPercent`.
    pub path: String,
    /// What kind of problem, stable across versions.
    pub code: ViolationCode,
    /// What was wrong and what would be right, for a person.
    pub message: String,
}

impl Violation {
    /// A violation at `path`.
    pub fn new(path: impl Into<String>, code: ViolationCode, message: impl Into<String>) -> Violation {
        Violation { path: path.into(), code, message: message.into() }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() { "/" } else { &self.path };
        write!(f, "{path}: {}", self.message)
    }
}

/// Every problem found in an input, in the order found. Never empty when
/// returned as an error.
#[derive(Debug, Clone, PartialEq, Default, thiserror::Error)]
pub struct Violations(pub Vec<Violation>);

impl Violations {
    /// The violations as a slice.
    pub fn as_slice(&self) -> &[Violation] {
        &self.0
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Adds one.
    pub fn push(&mut self, path: impl Into<String>, code: ViolationCode, message: impl Into<String>) {
        self.0.push(Violation::new(path, code, message));
    }

    /// `Ok(())` when there are none, else `Err(self)`.
    pub fn into_result(self) -> Result<(), Violations> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }

    /// Iterates over the violations.
    pub fn iter(&self) -> std::slice::Iter<'_, Violation> {
        self.0.iter()
    }
}

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.len() {
            0 => f.write_str("no violations"),
            1 => write!(f, "{}", self.0[0]),
            n => {
                write!(f, "{n} problems: ")?;
                for (i, v) in self.0.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{v}")?;
                }
                Ok(())
            }
        }
    }
}

impl IntoIterator for Violations {
    type Item = Violation;
    type IntoIter = std::vec::IntoIter<Violation>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Violations {
    type Item = &'a Violation;
    type IntoIter = std::slice::Iter<'a, Violation>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl FromIterator<Violation> for Violations {
    fn from_iter<I: IntoIterator<Item = Violation>>(iter: I) -> Self {
        Violations(iter.into_iter().collect())
    }
}

impl Extend<Violation> for Violations {
    fn extend<I: IntoIterator<Item = Violation>>(&mut self, iter: I) {
        self.0.extend(iter);
    }
}

/// Appends `token` to the JSON Pointer `base`, escaping `~` and `/`.
pub fn pointer(base: &str, token: impl fmt::Display) -> String {
    let token = token.to_string();
    if token.contains(['~', '/']) {
        format!("{base}/{}", token.replace('~', "~0").replace('/', "~1"))
    } else {
        format!("{base}/{token}")
    }
}
