//! The id of a policy object, as it appears (percent-decoded) in the last path segment.

use std::fmt;

use super::FieldError;

/// Longest id NSX accepts, in characters.
pub const MAX_ID_CHARS: usize = 255;

/// A valid object id: 1 to 255 characters, no `/`, no control characters, not only
/// white space.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId(String);

impl ObjectId {
    /// Checks an already percent-decoded id against NSX's rules.
    pub fn parse(decoded: &str) -> Result<Self, FieldError> {
        let invalid = |message: &str| Err(FieldError::new("id", message));
        let chars = decoded.chars().count();
        if chars == 0 || chars > MAX_ID_CHARS {
            return invalid("must be between 1 and 255 characters long");
        }
        if decoded.contains('/') {
            return invalid("must not contain '/'");
        }
        if decoded.chars().any(char::is_control) {
            return invalid("must not contain control characters");
        }
        if decoded.chars().all(char::is_whitespace) {
            return invalid("must not consist only of white space");
        }
        Ok(Self(decoded.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_ids() {
        for id in ["t14", "a b", "ünïcødé", "x".repeat(255).as_str(), "%"] {
            assert_eq!(ObjectId::parse(id).unwrap().as_str(), id);
        }
    }

    #[test]
    fn rejects_what_nsx_rejects() {
        for id in ["", "a/b", "a\nb", "\u{7f}", "   ", "\t", &"x".repeat(256)] {
            let err = ObjectId::parse(id).unwrap_err();
            assert_eq!(err.field, "id", "{id:?}");
        }
    }
}
