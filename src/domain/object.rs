//! A stored policy object, of any type: the client's config plus what the server sets.

use serde::Serialize;
use uuid::Uuid;

use super::config::Config;
use super::fields::SYSTEM_USER;
use super::path::ObjectPath;
use super::realization::reports_realization_id;
use super::ObjectId;

/// Server-set fields of a stored object (the README's "Create" lists them).
#[derive(Debug, Clone, PartialEq)]
pub struct Metadata {
    pub unique_id: Uuid,
    pub revision: i64,
    pub create_time: i64,
    pub create_user: String,
    pub last_modified_time: i64,
    pub last_modified_user: String,
    /// True only in the history row that records a delete.
    pub marked_for_delete: bool,
}

/// One policy object as the store holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyObject {
    pub path: ObjectPath,
    pub config: Config,
    pub meta: Metadata,
    rendered: Rendered,
}

/// The object as the API serves it, rendered the first time it is asked for
/// ([`PolicyObject::rendered`]): the writer renders a new revision for its history row, and
/// the answer to its request and every GET the cache serves take that very text. An object
/// is not changed once rendered (the store shares it behind an `Arc`); a clone, which may
/// be, starts unrendered.
#[derive(Default)]
struct Rendered(std::sync::OnceLock<bytes::Bytes>);

impl Clone for Rendered {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl PartialEq for Rendered {
    /// Two objects are equal by what they hold, rendered or not.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() {
            "rendered"
        } else {
            "unrendered"
        })
    }
}

impl PolicyObject {
    pub fn new(path: ObjectPath, config: Config, meta: Metadata) -> Self {
        Self {
            path,
            config,
            meta,
            rendered: Rendered::default(),
        }
    }

    pub fn id(&self) -> &ObjectId {
        self.path.id()
    }

    pub fn resource_type(&self) -> &'static str {
        self.config.resource_type_name()
    }

    /// The object as the API serves it: the client's fields, then the server's.
    pub fn to_json(&self) -> String {
        self.json().to_owned()
    }

    /// [`PolicyObject::to_json`] as a JSON value.
    pub fn served(&self) -> serde_json::Value {
        serde_json::from_str(self.json()).expect("an object renders as a JSON value")
    }

    /// [`PolicyObject::to_json`], rendered once and shared.
    pub fn rendered(&self) -> bytes::Bytes {
        self.rendered_once().clone()
    }

    /// [`PolicyObject::to_json`], without a copy.
    pub fn json(&self) -> &str {
        std::str::from_utf8(self.rendered_once()).expect("serde_json writes UTF-8")
    }

    fn rendered_once(&self) -> &bytes::Bytes {
        self.rendered.0.get_or_init(|| {
            serde_json::to_vec(&self.wire())
                .expect("an object always serializes")
                .into()
        })
    }

    fn wire(&self) -> Wire<'_> {
        let meta = &self.meta;
        Wire {
            config: &self.config,
            resource_type: self.resource_type(),
            id: self.id().as_str(),
            path: self.path.as_str(),
            relative_path: self.id().as_str(),
            parent_path: self.path.parent(),
            unique_id: meta.unique_id,
            realization_id: reports_realization_id(self.resource_type()).then_some(meta.unique_id),
            marked_for_delete: meta.marked_for_delete,
            overridden: false,
            create_user: &meta.create_user,
            create_time: meta.create_time,
            last_modified_user: &meta.last_modified_user,
            last_modified_time: meta.last_modified_time,
            system_owned: meta.create_user == SYSTEM_USER,
            protection: "NOT_PROTECTED",
            revision: meta.revision,
        }
    }
}

#[derive(Serialize)]
struct Wire<'a> {
    #[serde(flatten)]
    config: &'a Config,
    resource_type: &'a str,
    id: &'a str,
    path: &'a str,
    relative_path: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_path: Option<&'a str>,
    unique_id: Uuid,
    /// The id of its realization, where NSX reports one: its realized entity's
    /// `realization_specific_identifier`.
    #[serde(skip_serializing_if = "Option::is_none")]
    realization_id: Option<Uuid>,
    marked_for_delete: bool,
    overridden: bool,
    #[serde(rename = "_create_user")]
    create_user: &'a str,
    #[serde(rename = "_create_time")]
    create_time: i64,
    #[serde(rename = "_last_modified_user")]
    last_modified_user: &'a str,
    #[serde(rename = "_last_modified_time")]
    last_modified_time: i64,
    #[serde(rename = "_system_owned")]
    system_owned: bool,
    #[serde(rename = "_protection")]
    protection: &'static str,
    #[serde(rename = "_revision")]
    revision: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::change::{Change, Stamp};
    use crate::domain::fields::{REALIZATION_ID, SERVER_FIELDS};
    use crate::domain::kind::{CatalogOnly, Kinds};
    use crate::domain::write::apply;

    /// The object served is the client's config plus exactly [`SERVER_FIELDS`] (and the
    /// realization's id of a type NSX realizes as an entity it names).
    #[test]
    fn an_object_is_its_config_and_the_server_fields() {
        let path = ObjectPath::from_stored("/infra/domains/d/groups/web").unwrap();
        let body = serde_json::json!({"description": "the web tier"});
        let document = CatalogOnly
            .document(body.as_object().unwrap().clone(), &path)
            .unwrap();
        let stamp = Stamp {
            user: "admin",
            now: 1,
            unique_id: Uuid::nil(),
        };
        let object = apply(None, path, Change::Put(document), stamp)
            .unwrap()
            .unwrap()
            .object;
        let served: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&object.to_json()).unwrap();
        let config: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&object.config.to_json()).unwrap();
        let mut server_set: Vec<&str> = served
            .keys()
            .map(String::as_str)
            .filter(|key| !config.contains_key(*key))
            .collect();
        server_set.sort_unstable();
        // A group is realized as an entity NSX names, so it reports its realization's id.
        let mut expected = SERVER_FIELDS.to_vec();
        expected.push(REALIZATION_ID);
        expected.sort_unstable();
        assert_eq!(server_set, expected);
    }
}
