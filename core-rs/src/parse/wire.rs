//! Serde helpers for Binance's wire quirks: integers that some payloads send as strings
//! (`listenKeyExpired` sends `"E":"1736996475556"`, exchangeInfo `"multiplierDecimal":"4"`).

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use std::fmt;

/// A signed integer sent either as a JSON number or as a string of digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FlexInt(pub i64);

impl<'de> Deserialize<'de> for FlexInt {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(FlexIntVisitor).map(FlexInt)
    }
}

struct FlexIntVisitor;

impl Visitor<'_> for FlexIntVisitor {
    type Value = i64;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an integer or a string of digits")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
        let digits = v.strip_prefix('-').unwrap_or(v);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(E::invalid_value(de::Unexpected::Str(v), &self));
        }
        v.parse().map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

/// An order id that may be a number, a string of digits, or `""` before it exists
/// (`ALGO_UPDATE.o.ai` is `""` until the conditional order triggers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OptionalId(pub Option<u64>);

impl<'de> Deserialize<'de> for OptionalId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(OptionalIdVisitor).map(OptionalId)
    }
}

struct OptionalIdVisitor;

impl Visitor<'_> for OptionalIdVisitor {
    type Value = Option<u64>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a non-negative id as a number or string, or an empty string")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Option<u64>, E> {
        Ok(Some(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Option<u64>, E> {
        u64::try_from(v)
            .map(Some)
            .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<u64>, E> {
        if v.is_empty() {
            return Ok(None);
        }
        if !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(E::invalid_value(de::Unexpected::Str(v), &self));
        }
        v.parse()
            .map(Some)
            .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Option<u64>, E> {
        Ok(None)
    }
}

/// Declares an enum of exchange strings that keeps unknown values in an `Other(String)` variant,
/// so a value Binance adds later never makes a record unparseable.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $($(#[$vmeta:meta])* $variant:ident => $wire:literal),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A value this version does not know, kept verbatim.
            Other(String),
        }

        impl $name {
            /// Maps the exchange's string; unknown values become `Other`.
            pub fn from_wire(text: &str) -> Self {
                match text {
                    $($wire => Self::$variant,)+
                    other => Self::Other(other.to_owned()),
                }
            }

            /// The exchange's string for the value.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)+
                    Self::Other(text) => text,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use wire_enum;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flex_int_accepts_numbers_and_digit_strings() {
        assert_eq!(
            serde_json::from_str::<FlexInt>("1736996475556").unwrap(),
            FlexInt(1736996475556)
        );
        assert_eq!(
            serde_json::from_str::<FlexInt>("\"1736996475556\"").unwrap(),
            FlexInt(1736996475556)
        );
        assert_eq!(serde_json::from_str::<FlexInt>("\"-4\"").unwrap(), FlexInt(-4));
        for bad in [
            "\"\"",
            "\"1e3\"",
            "\"+1\"",
            "1.5",
            "true",
            "\"99999999999999999999\"",
            "18446744073709551615",
        ] {
            assert!(serde_json::from_str::<FlexInt>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn optional_id_accepts_empty_and_digits() {
        assert_eq!(serde_json::from_str::<OptionalId>("\"\"").unwrap(), OptionalId(None));
        assert_eq!(serde_json::from_str::<OptionalId>("null").unwrap(), OptionalId(None));
        assert_eq!(
            serde_json::from_str::<OptionalId>("\"123\"").unwrap(),
            OptionalId(Some(123))
        );
        assert_eq!(
            serde_json::from_str::<OptionalId>("123").unwrap(),
            OptionalId(Some(123))
        );
        for bad in ["-1", "\"-1\"", "\"x\"", "[]"] {
            assert!(serde_json::from_str::<OptionalId>(bad).is_err(), "{bad}");
        }
    }
}
