//! Reading an [`IterationInput`] straight from bytes.
//!
//! A server reads many bodies, nearly all of them valid. Going through
//! `serde_json::Value` and the collecting reader costs about as much as the
//! rest of a request's model work, so a body is first read directly, by a
//! strict serde visitor that stops at the first problem; only a body that
//! fails it is read again the slow way, which finds every problem with its
//! JSON Pointer. The two paths agree on every input: the direct one accepts
//! a subset of what the collecting reader accepts (no `flags` as a string,
//! no duplicate fields), and on that subset reads the same values; anything
//! else falls back. A property test holds them to it
//! (`tests/model/proptests.rs`).
//!
//! There is one type per input, not a shadow of it: [`direct_reader!`]
//! builds the type with a struct expression, so a field added to the type
//! and not to its reader, or the other way round, does not compile.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::allocation::AllocationPercent;
use crate::input::{FlagInput, IterationInput, MetricInput, TreatmentInput, TreatmentParameterInput};
use crate::violation::Violations;

/// Why bytes are not an [`IterationInput`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// Not JSON at all; the error knows the line and column.
    #[error("the body is not valid JSON: line {line}, column {column}: {0}", line = .0.line(), column = .0.column())]
    Syntax(#[source] serde_json::Error),
    /// JSON, but with absent or mistyped fields: every one of them.
    #[error("{0}")]
    Invalid(Violations),
}

impl IterationInput {
    /// Reads an input from JSON bytes: directly when it is well formed, else
    /// through [`IterationInput::from_json`], which reports every absent or
    /// mistyped field. The result is the same either way.
    pub fn from_slice(bytes: &[u8]) -> Result<IterationInput, InputError> {
        if let Some(input) = IterationInput::from_slice_direct(bytes) {
            return Ok(input);
        }
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(InputError::Syntax)?;
        IterationInput::from_json(&value).map_err(InputError::Invalid)
    }

    /// The direct path of [`IterationInput::from_slice`] alone: `None` where
    /// it falls back to the collecting reader. For the property test that
    /// holds the two paths to the same result.
    #[doc(hidden)]
    pub fn from_slice_direct(bytes: &[u8]) -> Option<IterationInput> {
        serde_json::from_slice::<Direct<IterationInput>>(bytes).ok().map(|direct| direct.0)
    }
}

/// A type the direct path reads: strictly, stopping at the first problem.
trait ReadDirect: Sized {
    fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error>;
}

/// `T` through its [`ReadDirect`] reader, where serde wants `Deserialize`
/// (the inputs' own `Deserialize` goes through the collecting reader).
#[repr(transparent)]
struct Direct<T>(T);

impl<'de, T: ReadDirect> Deserialize<'de> for Direct<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::read(deserializer).map(Direct)
    }
}

/// Leaves read by their serde impls, which accept what the collecting
/// reader's `string`, `boolean`, `integer` and allocation readers accept.
macro_rules! read_with_serde {
    ($($ty:ty),*) => {$(
        impl ReadDirect for $ty {
            fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                <$ty>::deserialize(deserializer)
            }
        }
    )*};
}

read_with_serde!(String, bool, i64, AllocationPercent);

/// `null` reads as absent, as in the collecting reader.
impl<T: ReadDirect> ReadDirect for Option<T> {
    fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Option::<Direct<T>>::deserialize(deserializer)?.map(|direct| direct.0))
    }
}

impl<T: ReadDirect> ReadDirect for Vec<T> {
    fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Items<T>(PhantomData<T>);
        impl<'de, T: ReadDirect> Visitor<'de> for Items<T> {
            type Value = Vec<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
                while let Some(Direct(item)) = seq.next_element::<Direct<T>>()? {
                    items.push(item);
                }
                Ok(items)
            }
        }
        deserializer.deserialize_seq(Items(PhantomData))
    }
}

/// An object only: `flags` sent as a string holding an object is left to
/// the collecting reader. A repeated key keeps its last value, as
/// `serde_json::Value` does.
impl<T: ReadDirect> ReadDirect for BTreeMap<String, T> {
    fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries<T>(PhantomData<T>);
        impl<'de, T: ReadDirect> Visitor<'de> for Entries<T> {
            type Value = BTreeMap<String, T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = BTreeMap::new();
                while let Some((key, Direct(value))) = map.next_entry::<String, Direct<T>>()? {
                    entries.insert(key, value);
                }
                Ok(entries)
            }
        }
        deserializer.deserialize_map(Entries(PhantomData))
    }
}

/// Implements [`ReadDirect`] for an input struct from its fields' wire
/// names: `req` fields must be present and not `null`, `opt` fields are
/// `None` when absent or `null`; unknown fields are skipped and a repeated
/// field fails (the collecting reader would keep the last one). The value is
/// built with a struct expression, so the list must name every field of the
/// type, and only those, to compile.
macro_rules! direct_reader {
    ($ty:ident { $( $kind:ident $field:ident = $wire:literal ),* $(,)? }) => {
        impl ReadDirect for $ty {
            fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                #[allow(non_camel_case_types)]
                enum Field { $( $field, )* Unknown }

                struct FieldVisitor;
                impl Visitor<'_> for FieldVisitor {
                    type Value = Field;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("a field name")
                    }
                    fn visit_str<E: de::Error>(self, name: &str) -> Result<Field, E> {
                        Ok(match name { $( $wire => Field::$field, )* _ => Field::Unknown })
                    }
                }
                impl<'de> Deserialize<'de> for Field {
                    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                        deserializer.deserialize_identifier(FieldVisitor)
                    }
                }

                struct Fields;
                impl<'de> Visitor<'de> for Fields {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str(concat!("a JSON object (", stringify!($ty), ")"))
                    }
                    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<$ty, A::Error> {
                        $( let mut $field = None; )*
                        while let Some(next) = map.next_key::<Field>()? {
                            match next {
                                $(
                                    Field::$field => {
                                        if $field.is_some() {
                                            return Err(de::Error::duplicate_field($wire));
                                        }
                                        $field = Some(map.next_value::<Direct<_>>()?.0);
                                    }
                                )*
                                Field::Unknown => {
                                    map.next_value::<IgnoredAny>()?;
                                }
                            }
                        }
                        Ok($ty { $( $field: direct_reader!(@finish $kind, $field, $wire), )* })
                    }
                }
                deserializer.deserialize_map(Fields)
            }
        }
    };
    (@finish req, $field:ident, $wire:literal) => {
        match $field {
            Some(value) => value,
            None => return Err(de::Error::missing_field($wire)),
        }
    };
    // Absent, and `null` (read as `Some(None)`), are both `None`.
    (@finish opt, $field:ident, $wire:literal) => {
        match $field {
            Some(Some(value)) => Some(value),
            _ => None,
        }
    };
}

direct_reader!(IterationInput {
    req hypothesis = "hypothesis",
    opt can_reshuffle_traffic = "canReshuffleTraffic",
    req metrics = "metrics",
    opt primary_single_metric_key = "primarySingleMetricKey",
    opt primary_funnel_key = "primaryFunnelKey",
    req treatments = "treatments",
    req flags = "flags",
    opt randomization_unit = "randomizationUnit",
    opt reallocation_frequency_millis = "reallocationFrequencyMillis",
    opt covariate_id = "covariateId",
    opt attributes = "attributes",
});

direct_reader!(MetricInput { req key = "key", opt is_group = "isGroup", opt primary = "primary" });

direct_reader!(TreatmentInput {
    req name = "name",
    req baseline = "baseline",
    req allocation_percent = "allocationPercent",
    req parameters = "parameters",
});

direct_reader!(TreatmentParameterInput { req flag_key = "flagKey", req variation_id = "variationId" });

direct_reader!(FlagInput {
    req rule_id = "ruleId",
    req flag_config_version = "flagConfigVersion",
    opt not_in_experiment_variation_id = "notInExperimentVariationId",
});

#[cfg(test)]
mod tests {
    use super::*;

    /// Both paths on one body: the same input, or the same violations.
    fn both(bytes: &[u8]) -> (Result<IterationInput, String>, Result<IterationInput, String>) {
        let direct = IterationInput::from_slice(bytes).map_err(|e| e.to_string());
        let slow = match serde_json::from_slice::<serde_json::Value>(bytes) {
            Ok(value) => IterationInput::from_json(&value).map_err(|v| v.to_string()),
            Err(err) => Err(InputError::Syntax(err).to_string()),
        };
        (direct, slow)
    }

    #[test]
    fn agrees_with_the_collecting_reader_on_edge_cases() {
        let valid = include_str!("../fixtures/demo/valid-request.json");
        let cases = [
            valid.to_owned(),
            valid.replacen("\"hypothesis\"", "\"unknownField\": [1, 2], \"hypothesis\"", 1),
            valid.replacen("\"50\"", "50", 1),
            valid.replacen("\"50\"", "33.33", 1),
            valid.replacen("\"50\"", "-50", 1),
            valid.replacen("\"randomizationUnit\": \"user\"", "\"randomizationUnit\": null", 1),
            valid.replacen("\"hypothesis\"", "\"hypothesis\": \"first\", \"hypothesis\"", 1),
            valid.replacen("\"flagConfigVersion\": 12", "\"flagConfigVersion\": 12.0", 1),
            valid.replacen("\"flagConfigVersion\": 12", "\"flagConfigVersion\": null", 1),
            "{\"flags\": \"{\\\"f\\\": {\\\"ruleId\\\": \\\"fallthrough\\\", \\\"flagConfigVersion\\\": 1}}\", \
             \"hypothesis\": \"h\", \"metrics\": [], \"treatments\": []}"
                .to_owned(),
            "[]".to_owned(),
            // Every field in order, as an array: serde's derived readers
            // take a struct from an array too, which the collecting reader
            // refuses, so the direct reader must refuse it as well.
            "[\"h\", null, [], null, null, [], {}, null, null, null, null]".to_owned(),
            "{\"hypothesis\": 1".to_owned(),
        ];
        for case in cases {
            let (direct, slow) = both(case.as_bytes());
            assert_eq!(direct, slow, "{case}");
        }
    }

    #[test]
    fn agrees_with_the_collecting_reader_on_every_fixture() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut seen = 0;
        for dir in ["invalid", "resolve", "docs", "demo"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let path = entry.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                if !name.ends_with(".json") || name.contains(".violations.") || name.contains(".expected.") {
                    continue;
                }
                let bytes = std::fs::read(&path).unwrap();
                let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                // Resolve cases may wrap the body with the experiment to use.
                let body = match value.get("body") {
                    Some(body) => serde_json::to_vec(body).unwrap(),
                    None => bytes,
                };
                let (direct, slow) = both(&body);
                assert_eq!(direct, slow, "{}", path.display());
                seen += 1;
            }
        }
        assert!(seen > 60, "only {seen} fixtures read");
    }

    #[test]
    fn the_valid_demo_request_takes_the_direct_path() {
        let valid = include_bytes!("../fixtures/demo/valid-request.json");
        assert!(IterationInput::from_slice_direct(valid).is_some());
    }
}
