//! The lists of the Policy API (the README's "List"): their parameters and orderings.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::paging::{not_issued, CursorKey, Params};
use super::{FieldError, PolicyObject};

/// What a list can be sorted by. Ties are broken by id, in the same direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SortBy {
    #[serde(rename = "display_name")]
    DisplayName,
    #[serde(rename = "id")]
    Id,
    #[serde(rename = "_create_time")]
    CreateTime,
    #[serde(rename = "_last_modified_time")]
    LastModifiedTime,
}

impl SortBy {
    const ALL: [SortBy; 4] = [
        SortBy::DisplayName,
        SortBy::Id,
        SortBy::CreateTime,
        SortBy::LastModifiedTime,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SortBy::DisplayName => "display_name",
            SortBy::Id => "id",
            SortBy::CreateTime => "_create_time",
            SortBy::LastModifiedTime => "_last_modified_time",
        }
    }

    /// The key a `sort_by` parameter names, or the error naming the keys there are.
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|sort| sort.as_str() == text)
            .ok_or_else(|| {
                let names: Vec<_> = SortBy::ALL.iter().map(|s| s.as_str()).collect();
                FieldError::new("sort_by", format!("must be one of {}", names.join(", ")))
            })
    }

    /// The value of this key for one object.
    pub fn key_of(self, object: &PolicyObject) -> SortValue {
        match self {
            SortBy::DisplayName => SortValue::Text(object.config.display_name().to_owned()),
            SortBy::Id => SortValue::Text(object.id().as_str().to_owned()),
            SortBy::CreateTime => SortValue::Time(object.meta.create_time),
            SortBy::LastModifiedTime => SortValue::Time(object.meta.last_modified_time),
        }
    }

    /// The value of this key in an object as the API serves it (a search's matches, which
    /// may be realized entities as well as stored objects); a missing one sorts first.
    pub fn key_of_served(self, served: &Value) -> SortValue {
        let field = &served[self.as_str()];
        match self {
            SortBy::DisplayName | SortBy::Id => {
                SortValue::Text(field.as_str().unwrap_or_default().to_owned())
            }
            SortBy::CreateTime | SortBy::LastModifiedTime => {
                SortValue::Time(field.as_i64().unwrap_or_default())
            }
        }
    }

    fn takes(self, value: &SortValue) -> bool {
        matches!(
            (self, value),
            (SortBy::DisplayName | SortBy::Id, SortValue::Text(_))
                | (
                    SortBy::CreateTime | SortBy::LastModifiedTime,
                    SortValue::Time(_)
                )
        )
    }
}

/// A sort key's value (one ordering's are all of one kind).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SortValue {
    Text(String),
    Time(i64),
}

/// Where a page ends: the last object's sort key and id. Its cursor is sealed for the
/// ordering it belongs to ([`ListQuery::cursor_scope`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListPosition {
    #[serde(rename = "k")]
    pub key: SortValue,
    #[serde(rename = "i")]
    pub id: String,
}

impl ListPosition {
    pub fn after(object: &PolicyObject, sort_by: SortBy) -> Self {
        Self {
            key: sort_by.key_of(object),
            id: object.id().as_str().to_owned(),
        }
    }
}

/// Which objects a list holds: the members of one collection of the catalog's, the objects
/// whose parent is `parent` and whose path is `path/<id>` (`/infra/domains/default/groups`
/// under `/infra/domains/default`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collection {
    pub parent: String,
    pub path: String,
    /// The types its members may be, when no other collection under the same parent holds
    /// objects of them (so that the counts the store keeps by parent and type are its size);
    /// empty otherwise.
    pub counted_types: Vec<String>,
}

/// A list request, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    pub collection: Collection,
    pub page_size: u32,
    pub sort_by: SortBy,
    pub ascending: bool,
    /// Start after this position; `None` for the first page.
    pub after: Option<ListPosition>,
}

impl ListQuery {
    /// Parses the list's query parameters. `included_fields` and
    /// `include_mark_for_delete_objects` are accepted and change nothing, as in NSX; other
    /// parameters are ignored.
    pub fn parse(
        collection: Collection,
        params: &Params<'_>,
        cursors: &CursorKey,
    ) -> Result<Self, FieldError> {
        let page_size = params.page_size()?;
        let sort_by = match params.get("sort_by") {
            None => SortBy::DisplayName,
            Some(text) => SortBy::parse(text)?,
        };
        let ascending = params.flag("sort_ascending", true)?;
        params.flag("include_mark_for_delete_objects", false)?;
        let after: Option<ListPosition> =
            params.cursor(cursors, &Self::scope(&collection, sort_by, ascending))?;
        if after.as_ref().is_some_and(|p| !sort_by.takes(&p.key)) {
            return Err(not_issued());
        }
        Ok(Self {
            collection,
            page_size,
            sort_by,
            ascending,
            after,
        })
    }

    /// What a cursor of this list is sealed for: its collection and its ordering.
    pub fn cursor_scope(&self) -> String {
        Self::scope(&self.collection, self.sort_by, self.ascending)
    }

    fn scope(collection: &Collection, sort_by: SortBy, ascending: bool) -> String {
        format!("list {} {} {ascending}", collection.path, sort_by.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> CursorKey {
        CursorKey::new([1; 32])
    }

    fn parse(pairs: &[(&str, &str)]) -> Result<ListQuery, FieldError> {
        let pairs: Vec<_> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let segments = Collection {
            parent: "/infra".into(),
            path: "/infra/segments".into(),
            counted_types: vec!["Segment".into()],
        };
        ListQuery::parse(segments, &Params::new(&pairs), &key())
    }

    #[test]
    fn defaults() {
        let query = parse(&[("included_fields", "id")]).unwrap();
        assert_eq!(query.page_size, 1000);
        assert_eq!(query.sort_by, SortBy::DisplayName);
        assert!(query.ascending);
        assert_eq!(query.after, None);
    }

    #[test]
    fn bad_parameters_are_named() {
        assert_eq!(parse(&[("sort_by", "path")]).unwrap_err().field, "sort_by");
        assert_eq!(
            parse(&[("sort_ascending", "yes")]).unwrap_err().field,
            "sort_ascending"
        );
        assert_eq!(parse(&[("cursor", "abc")]).unwrap_err().field, "cursor");
    }

    #[test]
    fn a_cursor_only_serves_the_order_it_was_issued_for() {
        let position = ListPosition {
            key: SortValue::Text("t9".into()),
            id: "t9".into(),
        };
        let by_id_descending = parse(&[("sort_by", "id"), ("sort_ascending", "false")]).unwrap();
        let cursor = key().seal(&by_id_descending.cursor_scope(), &position);
        let query = parse(&[
            ("sort_by", "id"),
            ("sort_ascending", "false"),
            ("cursor", &cursor),
        ]);
        assert_eq!(query.unwrap().after, Some(position));
        assert!(parse(&[("sort_by", "id"), ("cursor", &cursor)]).is_err());
        assert!(parse(&[("cursor", &cursor)]).is_err());
        let by_time = parse(&[("sort_by", "_create_time")]).unwrap();
        let wrong_key = key().seal(
            &by_time.cursor_scope(),
            &ListPosition {
                key: SortValue::Text("x".into()),
                id: "x".into(),
            },
        );
        assert!(parse(&[("sort_by", "_create_time"), ("cursor", &wrong_key)]).is_err());
    }
}
