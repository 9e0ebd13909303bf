//! The JSON mapping rules shared by every v1 message: enums by name, `bytes` as Base64, nulls as unset,
//! protobuf defaults, pass-through sub-messages, and the parse error type.
//!
//! Mesos maps protobuf to JSON with stout's own rules (reference §6.3), not proto3's canonical mapping.
//! Field conventions used throughout `v1`:
//! - a `required` field is a plain Rust field; when it is missing, [`from_json`] reports
//!   `Missing required fields: <name>`;
//! - an `optional` field is an `Option` skipped when `None`; `null` reads as `None`;
//! - a `repeated` field is a `Vec` skipped when empty; `null` reads as empty ([`null_default`]);
//! - an `optional` field with an explicit, non-deprecated `[default = ...]` is a plain field that is
//!   always written, because stout writes such defaults;
//! - an `optional` enum uses [`enum_opt`]: an unknown name reads as unset (MESOS-7828), whereas a
//!   `required` enum rejects unknown names.

use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;
use std::marker::PhantomData;

use mesolite_core::task_state::TaskState;

use super::base64;

/// A protobuf enum written as its value name (`"TASK_RUNNING"`), never as a number.
pub trait WireEnum: Sized + Copy {
    /// Every value name, for error messages.
    const NAMES: &'static [&'static str];
    fn wire_name(self) -> &'static str;
    fn from_wire_name(name: &str) -> Option<Self>;
}

/// Declares a protobuf enum as a Rust enum with its wire names, strict `Deserialize` (an unknown name
/// is an error, as for a `required` field) and `Serialize` by name.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $crate::v1::wire::WireEnum for $name {
            const NAMES: &'static [&'static str] = &[$($wire),+];
            fn wire_name(self) -> &'static str {
                match self {
                    $($name::$variant => $wire),+
                }
            }
            fn from_wire_name(name: &str) -> Option<Self> {
                match name {
                    $($wire => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                $crate::v1::wire::enum_req::serialize(self, serializer)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $crate::v1::wire::enum_req::deserialize(deserializer)
            }
        }
    };
}
pub(crate) use wire_enum;

impl WireEnum for TaskState {
    const NAMES: &'static [&'static str] = &[
        "TASK_STARTING",
        "TASK_RUNNING",
        "TASK_FINISHED",
        "TASK_FAILED",
        "TASK_KILLED",
        "TASK_LOST",
        "TASK_STAGING",
        "TASK_ERROR",
        "TASK_KILLING",
        "TASK_DROPPED",
        "TASK_UNREACHABLE",
        "TASK_GONE",
        "TASK_GONE_BY_OPERATOR",
        "TASK_UNKNOWN",
    ];
    fn wire_name(self) -> &'static str {
        self.name()
    }
    fn from_wire_name(name: &str) -> Option<Self> {
        TaskState::from_name(name)
    }
}

struct NameVisitor<E>(PhantomData<E>);

impl<E: WireEnum> Visitor<'_> for NameVisitor<E> {
    type Value = E;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an enum value name")
    }

    fn visit_str<Er: de::Error>(self, v: &str) -> Result<E, Er> {
        E::from_wire_name(v).ok_or_else(|| Er::unknown_variant(v, E::NAMES))
    }
}

/// `#[serde(with = "wire::enum_req")]` for a `required` enum field: unknown names are errors.
pub mod enum_req {
    use super::*;

    pub fn serialize<E: WireEnum, S: Serializer>(value: &E, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(value.wire_name())
    }

    pub fn deserialize<'de, E: WireEnum, D: Deserializer<'de>>(d: D) -> Result<E, D::Error> {
        d.deserialize_str(NameVisitor(PhantomData))
    }
}

/// `#[serde(default, with = "wire::enum_opt", skip_serializing_if = "Option::is_none")]` for an
/// `optional` enum field: `null` and unknown names read as unset; non-strings are errors.
pub mod enum_opt {
    use super::*;

    pub fn serialize<E: WireEnum, S: Serializer>(
        value: &Option<E>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => s.serialize_str(v.wire_name()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, E: WireEnum, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<E>, D::Error> {
        let name = Option::<String>::deserialize(d)?;
        Ok(name.and_then(|n| E::from_wire_name(&n)))
    }
}

/// `deserialize_with` for repeated fields and defaulted scalars: `null` reads as the default.
pub fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Default of `bool` fields declared `[default = true]`.
pub fn default_true() -> bool {
    true
}

/// `deserialize_with` for `[default = true]` booleans: `null` reads as `true`.
pub fn null_or_true<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(d)?.unwrap_or(true))
}

/// A protobuf `bytes` field: Base64 with padding on the wire, raw bytes in memory.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Bytes(pub Vec<u8>);

impl Bytes {
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bytes({})", base64::encode(&self.0))
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Self {
        Bytes(v)
    }
}

impl From<&[u8]> for Bytes {
    fn from(v: &[u8]) -> Self {
        Bytes(v.to_vec())
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::encode(&self.0))
    }
}

struct BytesVisitor;

impl Visitor<'_> for BytesVisitor {
    type Value = Bytes;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a base64 string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Bytes, E> {
        base64::decode(v).map(Bytes).map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(BytesVisitor)
    }
}

/// A sub-message that mesolite stores and forwards without interpreting it yet (for example
/// `ContainerInfo`); it must be a JSON object. It gets a typed shape once something reads it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RawMessage(pub serde_json::Map<String, serde_json::Value>);

/// A message with no fields (`Resource.RevocableInfo`, `Resource.SharedInfo`), written as `{}`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Empty {}

/// Why a v1 JSON body was refused; the HTTP layer answers `400` with this one-line reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// A `required` field is absent (protobuf `IsInitialized` failed).
    MissingField(String),
    /// Not JSON, a wrong JSON type (numbers as strings included), an unknown required enum name,
    /// or invalid Base64.
    Malformed(String),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::MissingField(name) => write!(f, "Missing required fields: {name}"),
            ParseError::Malformed(reason) => write!(f, "Malformed JSON: {reason}"),
        }
    }
}

impl std::error::Error for ParseError {}

impl From<serde_json::Error> for ParseError {
    fn from(e: serde_json::Error) -> Self {
        let text = e.to_string();
        // serde's derive reports an absent field as "missing field `name`".
        if let Some(rest) = text.strip_prefix("missing field `") {
            if let Some(end) = rest.find('`') {
                return ParseError::MissingField(rest[..end].to_string());
            }
        }
        ParseError::Malformed(text)
    }
}

/// Parses a v1 JSON message with Mesos' input rules (reference §6.3). The body must be a JSON
/// object.
///
/// One leniency remains below the top level: serde also reads a nested message from a JSON array
/// of its fields in declaration order, where Mesos would refuse the body.
pub fn from_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ParseError> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return Err(ParseError::Malformed(String::from(
            "expected a JSON object",
        )));
    }
    Ok(serde_json::from_slice(body)?)
}
