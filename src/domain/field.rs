//! Errors that name what is wrong with a request, in the client's own terms.

use std::fmt;

/// One field that does not satisfy the contract, named by its dotted path
/// (`packet.ipHeader.ttl`, `tags[3].scope`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}

/// Why a request body could not become a typed document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// The bytes are not one JSON value.
    #[error("The request body is not valid JSON: {0}")]
    Syntax(String),
    /// The JSON is well formed, but a field breaks the contract.
    #[error(transparent)]
    Field(#[from] FieldError),
}
