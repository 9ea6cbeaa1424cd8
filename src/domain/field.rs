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

impl FieldError {
    /// A typed deserialization's error, named by the dotted path of the offending field; a
    /// missing field is named by its own path, in the contract's words.
    pub fn from_path_error(err: serde_path_to_error::Error<serde_json::Error>) -> Self {
        let path = err.path().to_string();
        let message = err.inner().to_string();
        let missing = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next());
        match missing {
            Some(name) if path == "." => Self::new(name, "required property not present"),
            Some(name) => Self::new(format!("{path}.{name}"), "required property not present"),
            None => Self::new(path, message),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}

impl BodyError {
    /// The bytes are not JSON: serde_json's message, with the position once, in our words.
    pub fn syntax(err: serde_json::Error) -> Self {
        let message = err.to_string();
        let suffix = format!(" at line {} column {}", err.line(), err.column());
        Self::Syntax(match message.strip_suffix(&suffix) {
            Some(bare) => format!("{bare} (line {}, column {})", err.line(), err.column()),
            None => message,
        })
    }
}

/// A request body that must be one JSON object: its members, or why it is not.
///
/// Duplicate keys: the last one wins, as with NSX's own JSON reader.
pub fn json_object(body: &[u8]) -> Result<serde_json::Map<String, serde_json::Value>, BodyError> {
    let value = serde_json::from_slice(body).map_err(BodyError::syntax)?;
    if may_hold_nul(body) {
        without_nul(&value, "")?;
    }
    match value {
        serde_json::Value::Object(object) => Ok(object),
        _ => Err(FieldError::new(".", "the request body must be a JSON object").into()),
    }
}

/// Whether JSON text may hold a U+0000 in a string: JSON writes it only as the escape
/// `\u0000` (a raw control character is a syntax error), so text without that escape has
/// none, and is not walked for one.
fn may_hold_nul(json: &[u8]) -> bool {
    json.windows(6).any(|window| window == b"\\u0000")
}

/// No string of `value`, key or value, holds U+0000: no store can keep it as text
/// (PostgreSQL's text refuses it), and no NSX field means anything by it. `at` is the dotted
/// path of `value` in its document.
pub fn without_nul(value: &serde_json::Value, at: &str) -> Result<(), FieldError> {
    let field = |key: &str| {
        if at.is_empty() {
            key.to_owned()
        } else {
            format!("{at}.{key}")
        }
    };
    let refused = |field: &str| {
        FieldError::new(
            if field.is_empty() { "." } else { field },
            "must not contain the NUL character (\\u0000)",
        )
    };
    match value {
        serde_json::Value::String(text) if text.contains('\0') => Err(refused(at)),
        serde_json::Value::Array(items) => items.iter().try_for_each(|item| without_nul(item, at)),
        serde_json::Value::Object(members) => members.iter().try_for_each(|(key, member)| {
            if key.contains('\0') {
                return Err(refused(at));
            }
            without_nul(member, &field(key))
        }),
        _ => Ok(()),
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nul_anywhere_is_refused_and_named() {
        let refused = |body: &str| json_object(body.as_bytes()).unwrap_err().to_string();
        assert!(refused(r#"{"a": "x\u0000y"}"#).contains("a:"));
        assert!(refused(r#"{"a": {"b": ["ok", "\u0000"]}}"#).contains("a.b:"));
        assert!(refused(r#"{"k\u0000": 1}"#).contains(".:"));
        assert!(json_object(br#"{"a": "\\u0000 is only text here"}"#).is_ok());
    }
}
