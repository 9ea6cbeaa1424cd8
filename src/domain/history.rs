//! The history of an object: every committed revision, as `policy_object_revisions` keeps it;
//! and the events stream's events: those revisions, and the operations on the whole store.

use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

use super::paging::{CursorKey, Params};
use super::{FieldError, Operation};

/// One committed revision. `object` is the whole object as the API served it then; for a
/// delete, its final state marked for delete.
#[derive(Debug, Clone, Serialize)]
pub struct RevisionRecord {
    pub path: String,
    pub revision: i64,
    #[serde(serialize_with = "operation_name")]
    pub operation: Operation,
    pub change_user: String,
    /// Epoch milliseconds.
    pub change_time: i64,
    pub object: Box<RawValue>,
    /// The history row's sequence number: the paging position.
    #[serde(skip)]
    pub seq: i64,
}

/// One committed change, as the events stream tells it: where, what, by whom and when; no
/// body (a reader of the stream reads the object through the API, with its own rights).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeEvent {
    /// The history row's sequence number: the stream's position, in commit order.
    pub position: i64,
    pub path: String,
    #[serde(serialize_with = "operation_name")]
    pub operation: Operation,
    pub revision: i64,
    pub user: String,
    /// Epoch milliseconds.
    pub time: i64,
}

/// An operation on the whole store, as the events stream tells it: a reader that shows the
/// store's state reads it anew, as what it holds may differ in anything.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WholeStoreEvent {
    /// Its position, from the history's own sequence: in commit order with the changes.
    pub position: i64,
    pub operation: WholeOperation,
    pub user: String,
    /// Epoch milliseconds.
    pub time: i64,
    /// What the operation answered its caller (`objects_removed`; `name`, `created`,
    /// `objects`; `imported`).
    #[serde(flatten)]
    pub detail: serde_json::Map<String, serde_json::Value>,
}

/// The operations on the whole store that the events stream tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WholeOperation {
    Reset,
    Restore,
    Import,
}

impl WholeOperation {
    pub const ALL: [Self; 3] = [Self::Reset, Self::Restore, Self::Import];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reset => "reset",
            Self::Restore => "restore",
            Self::Import => "import",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.as_str() == text)
    }
}

/// One event of the stream, at its position.
#[derive(Debug, Clone, PartialEq)]
pub enum StoreEvent {
    Change(ChangeEvent),
    Whole(WholeStoreEvent),
}

impl StoreEvent {
    pub fn position(&self) -> i64 {
        match self {
            Self::Change(change) => change.position,
            Self::Whole(whole) => whole.position,
        }
    }

    /// The event's name on the stream: `change`, or the whole-store operation's.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Change(_) => "change",
            Self::Whole(whole) => whole.operation.as_str(),
        }
    }

    /// The event's data, as JSON.
    pub fn data(&self) -> String {
        match self {
            Self::Change(change) => serde_json::to_string(change),
            Self::Whole(whole) => serde_json::to_string(whole),
        }
        .expect("an event serializes")
    }
}

fn operation_name<S: Serializer>(op: &Operation, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(op.as_str())
}

/// Where a page of history ends: the last row's sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevisionPosition {
    #[serde(rename = "q")]
    pub seq: i64,
}

/// A request for the revisions of one object, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct RevisionQuery {
    pub path: String,
    pub page_size: u32,
    /// Start after this position; `None` for the newest.
    pub after: Option<RevisionPosition>,
}

impl RevisionQuery {
    /// Every revision of `path` at once.
    pub fn all(path: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            page_size: u32::MAX,
            after: None,
        }
    }

    /// `path` (required, a policy path), `page_size` and `cursor` as for lists.
    pub fn parse(params: &Params<'_>, cursors: &CursorKey) -> Result<Self, FieldError> {
        let path = match params.get("path") {
            // No store keeps U+0000 in text, and no policy path holds a control character.
            Some(path) if path.chars().any(char::is_control) => {
                return Err(FieldError::new(
                    "path",
                    "must not contain control characters",
                ))
            }
            Some(path) if path.starts_with('/') => path.to_owned(),
            Some(_) => {
                return Err(FieldError::new(
                    "path",
                    "must be a policy path such as /infra/antrea/traceflows/t14",
                ))
            }
            None => return Err(FieldError::new("path", "required property not present")),
        };
        Ok(Self {
            page_size: params.page_size()?,
            after: params.cursor(cursors, &Self::scope(&path))?,
            path,
        })
    }

    /// What a cursor of this history is sealed for: its path.
    pub fn cursor_scope(&self) -> String {
        Self::scope(&self.path)
    }

    fn scope(path: &str) -> String {
        format!("revisions {path}")
    }
}
