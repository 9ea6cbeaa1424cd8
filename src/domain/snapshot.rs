//! Snapshots of the whole store (the README's "Using it in a test suite").

use serde::Serialize;

use super::FieldError;

/// A snapshot's name: 1 to 64 characters of `A-Z a-z 0-9 . _ -`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SnapshotName(String);

impl SnapshotName {
    pub const MAX_CHARS: usize = 64;

    pub fn parse(text: &str) -> Result<Self, FieldError> {
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
        if text.is_empty() || text.len() > Self::MAX_CHARS || !text.chars().all(allowed) {
            return Err(FieldError::new(
                "name",
                "must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' and '-'",
            ));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What the store says of a saved snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SnapshotInfo {
    pub name: String,
    /// When it was saved, epoch ms on the store's clock.
    pub created: i64,
    /// How many objects it holds.
    pub objects: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_short_and_plain() {
        for good in ["a", "before-test_3.v2", &"x".repeat(64)] {
            assert_eq!(SnapshotName::parse(good).unwrap().as_str(), good);
        }
        for bad in ["", "a b", "a/b", "ü", &"x".repeat(65)] {
            assert_eq!(
                SnapshotName::parse(bad).unwrap_err().field,
                "name",
                "{bad:?}"
            );
        }
    }
}
