//! Macros that define the wire types.
//!
//! Representations (what a server sends) must keep fields they do not know,
//! so that reading a newer API's JSON and writing it back loses nothing.
//! `#[serde(flatten)]` would do that, but it makes serde buffer the whole
//! object before picking fields out of it, which is slower than parsing into
//! `serde_json::Value`. `representation!` instead generates a visitor that
//! matches known keys straight from the input and keeps the rest in an
//! `extra` map, which stays unallocated when there is nothing unknown.
//!
//! `wire_enum!` generates string enums that keep a value they do not know
//! (`Other(String)`) and write it back unchanged.

/// Defines a representation struct with `Serialize` and `Deserialize`.
///
/// Fields are `req` (must be present) or `opt` (an `Option`, omitted when
/// `None`, read as `None` when absent or `null`). Unknown fields land in
/// `extra` and are written back after the known ones.
macro_rules! representation {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$fmeta:meta])*
                $kind:ident $field:ident : $ty:ty = $wire:literal
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name {
            $(
                $(#[$fmeta])*
                pub $field: $crate::wire::field_type!($kind $ty),
            )*
            /// Fields this version of the model does not know, kept so that
            /// they are written back unchanged.
            pub extra: serde_json::Map<String, serde_json::Value>,
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap;
                let mut map = serializer.serialize_map(None)?;
                $( $crate::wire::write_field!(map, $kind, $wire, &self.$field); )*
                for (key, value) in &self.extra {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }

        impl $crate::json::WriteJson for $name {
            fn write_json(&self, out: &mut Vec<u8>) {
                out.push(b'{');
                let mut first = true;
                $( $crate::wire::write_json_field!(out, first, $kind, $wire, &self.$field); )*
                for (key, value) in &self.extra {
                    $crate::json::write_member(out, &mut first, key, value);
                }
                out.push(b'}');
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                #[allow(non_camel_case_types)]
                enum Field { $( $field, )* Unknown(String) }

                struct FieldVisitor;
                impl serde::de::Visitor<'_> for FieldVisitor {
                    type Value = Field;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str("a field name")
                    }
                    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<Field, E> {
                        Ok(match key {
                            $( $wire => Field::$field, )*
                            other => Field::Unknown(other.to_owned()),
                        })
                    }
                }
                impl<'de> serde::Deserialize<'de> for Field {
                    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                        d.deserialize_identifier(FieldVisitor)
                    }
                }

                struct Visitor;
                impl<'de> serde::de::Visitor<'de> for Visitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str(concat!("a JSON object (", stringify!($name), ")"))
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut __map: A) -> Result<$name, A::Error> {
                        $( let mut $field: Option<$crate::wire::field_type!($kind $ty)> = None; )*
                        let mut __extra = serde_json::Map::new();
                        while let Some(__key) = __map.next_key::<Field>()? {
                            match __key {
                                $(
                                    Field::$field => {
                                        if $field.is_some() {
                                            return Err(serde::de::Error::duplicate_field($wire));
                                        }
                                        $field = Some(__map.next_value()?);
                                    }
                                )*
                                Field::Unknown(__unknown) => {
                                    let __value = __map.next_value()?;
                                    __extra.insert(__unknown, __value);
                                }
                            }
                        }
                        Ok($name {
                            $( $field: $crate::wire::finish_field!($kind, $field, $wire), )*
                            extra: __extra,
                        })
                    }
                }
                deserializer.deserialize_map(Visitor)
            }
        }
    };
}

macro_rules! field_type {
    (req $ty:ty) => { $ty };
    (opt $ty:ty) => { Option<$ty> };
}

macro_rules! write_field {
    ($map:ident, req, $wire:literal, $value:expr) => {
        $map.serialize_entry($wire, $value)?;
    };
    ($map:ident, opt, $wire:literal, $value:expr) => {
        if let Some(value) = $value {
            $map.serialize_entry($wire, value)?;
        }
    };
}

/// Writes one field for [`WriteJson`](crate::json::WriteJson): the key from
/// a literal (wire names are plain ASCII and need no escaping, which the
/// property tests check against serde_json), `,` before all but the first.
macro_rules! write_json_field {
    ($out:ident, $first:ident, req, $wire:literal, $value:expr) => {
        if !$first {
            $out.push(b',');
        }
        $first = false;
        $out.extend_from_slice(concat!("\"", $wire, "\":").as_bytes());
        $crate::json::WriteJson::write_json($value, $out);
    };
    ($out:ident, $first:ident, opt, $wire:literal, $value:expr) => {
        if let Some(value) = $value {
            $crate::wire::write_json_field!($out, $first, req, $wire, value);
        }
    };
}

macro_rules! finish_field {
    (req, $field:ident, $wire:literal) => {
        match $field {
            Some(value) => value,
            None => return Err(serde::de::Error::missing_field($wire)),
        }
    };
    // `Some(None)` (an explicit `null`) and `None` (absent) both read as absent.
    (opt, $field:ident, $wire:literal) => {
        $field.flatten()
    };
}

/// Defines a string enum that keeps values it does not know.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this version of the model does not know, kept as sent.
            Other(String),
        }

        impl $name {
            /// Every value this version of the model knows.
            pub const KNOWN: &'static [$name] = &[$( $name::$variant, )*];

            /// The value as it is written on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $wire, )*
                    $name::Other(other) => other,
                }
            }

            /// Whether this is a value the model knows (not [`Self::Other`]).
            pub fn is_known(&self) -> bool {
                !matches!(self, $name::Other(_))
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $( $wire => $name::$variant, )*
                    other => $name::Other(other.to_owned()),
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Ok($name::from(value))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl $crate::json::WriteJson for $name {
            fn write_json(&self, out: &mut Vec<u8>) {
                $crate::json::write_str(out, self.as_str());
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Visitor;
                impl serde::de::Visitor<'_> for Visitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str("a string")
                    }
                    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<$name, E> {
                        Ok($name::from(value))
                    }
                }
                deserializer.deserialize_str(Visitor)
            }
        }
    };
}

pub(crate) use field_type;
pub(crate) use finish_field;
pub(crate) use representation;
pub(crate) use wire_enum;
pub(crate) use write_field;
pub(crate) use write_json_field;

/// `value` as untyped JSON. The model's types serialize by construction
/// (string keys, no failing `Serialize`), so the `Null` fallback is never taken.
pub(crate) fn to_json_value<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}
