//! Value types whose deserialization enforces a rule of the contract, with the rule's own
//! words as the error message. Each serializes back to the plain JSON value it came from.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// Upper bound of integers the contract only requires to be `≥ 0` (a Java `long` in NSX).
pub const NON_NEGATIVE: u64 = i64::MAX as u64;

/// An integer in `0..=MAX`. Rejects negatives, fractions and numbers out of range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ranged<const MAX: u64>(u64);

impl<const MAX: u64> Ranged<MAX> {
    pub fn new(value: u64) -> Option<Self> {
        (value <= MAX).then_some(Self(value))
    }

    pub fn get(self) -> u64 {
        self.0
    }

    fn rule() -> String {
        if MAX == NON_NEGATIVE {
            "must be an integer greater than or equal to 0".to_owned()
        } else {
            format!("must be an integer between 0 and {MAX}")
        }
    }
}

/// Zero: the default of every optional count and duration.
impl<const MAX: u64> Default for Ranged<MAX> {
    fn default() -> Self {
        Self(0)
    }
}

impl<const MAX: u64> Serialize for Ranged<MAX> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(self.0)
    }
}

impl<'de, const MAX: u64> Deserialize<'de> for Ranged<MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RangedVisitor<const MAX: u64>;

        impl<const MAX: u64> Visitor<'_> for RangedVisitor<MAX> {
            type Value = Ranged<MAX>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an integer")
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ranged::new(v).ok_or_else(|| E::custom(Ranged::<MAX>::rule()))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                u64::try_from(v)
                    .ok()
                    .and_then(Ranged::new)
                    .ok_or_else(|| E::custom(Ranged::<MAX>::rule()))
            }

            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Err(E::custom(Ranged::<MAX>::rule()))
            }
        }

        deserializer.deserialize_u64(RangedVisitor::<MAX>)
    }
}

/// A string of at most `MAX` characters; with `NON_EMPTY`, of at least one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text<const MAX: usize, const NON_EMPTY: bool>(String);

/// A string of at most `MAX` characters.
pub type BoundedString<const MAX: usize> = Text<MAX, false>;

/// A required identifier-like string: anything but empty.
pub type NonEmptyString = Text<{ usize::MAX }, true>;

impl<const MAX: usize, const NON_EMPTY: bool> Text<MAX, NON_EMPTY> {
    pub fn parse(value: String) -> Result<Self, String> {
        if NON_EMPTY && value.is_empty() {
            return Err("must not be empty".to_owned());
        }
        if MAX != usize::MAX && value.chars().count() > MAX {
            return Err(format!("must be at most {MAX} characters long"));
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<const MAX: usize, const NON_EMPTY: bool> Serialize for Text<MAX, NON_EMPTY> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de, const MAX: usize, const NON_EMPTY: bool> Deserialize<'de> for Text<MAX, NON_EMPTY> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = String::deserialize(deserializer)?;
        Self::parse(value).map_err(de::Error::custom)
    }
}

/// Declares an address type that parses from, and prints as, the standard text form.
macro_rules! address {
    ($name:ident, $inner:ty, $rule:literal) => {
        #[doc = concat!("An ", stringify!($inner), " given as text; ", $rule, ".")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name(pub $inner);

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse()
                    .map($name)
                    .map_err(|_| de::Error::custom($rule))
            }
        }
    };
}

address!(Ipv4, Ipv4Addr, "must be an IPv4 address");
address!(Ipv6, Ipv6Addr, "must be an IPv6 address");

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse<T: for<'de> Deserialize<'de>>(value: serde_json::Value) -> Result<T, String> {
        serde_json::from_value(value).map_err(|e| e.to_string())
    }

    #[test]
    fn ranged_accepts_its_range_and_names_it_otherwise() {
        assert_eq!(parse::<Ranged<255>>(json!(255)).unwrap().get(), 255);
        assert_eq!(parse::<Ranged<255>>(json!(0)).unwrap().get(), 0);
        for bad in [json!(256), json!(-1), json!(1.5)] {
            assert_eq!(
                parse::<Ranged<255>>(bad).unwrap_err(),
                "must be an integer between 0 and 255"
            );
        }
        assert!(parse::<Ranged<255>>(json!("7"))
            .unwrap_err()
            .contains("expected an integer"));
        assert_eq!(
            parse::<Ranged<NON_NEGATIVE>>(json!(-3)).unwrap_err(),
            "must be an integer greater than or equal to 0"
        );
    }

    #[test]
    fn text_counts_characters_not_bytes() {
        assert!(parse::<BoundedString<3>>(json!("äöü")).is_ok());
        assert_eq!(
            parse::<BoundedString<3>>(json!("abcd")).unwrap_err(),
            "must be at most 3 characters long"
        );
        assert_eq!(
            parse::<NonEmptyString>(json!("")).unwrap_err(),
            "must not be empty"
        );
    }

    #[test]
    fn addresses_round_trip() {
        let v4: Ipv4 = parse(json!("172.16.14.11")).unwrap();
        assert_eq!(serde_json::to_value(v4).unwrap(), json!("172.16.14.11"));
        assert_eq!(
            parse::<Ipv4>(json!("300.1.1.1")).unwrap_err(),
            "must be an IPv4 address"
        );
        assert_eq!(
            parse::<Ipv6>(json!("10.0.0.1")).unwrap_err(),
            "must be an IPv6 address"
        );
    }
}
