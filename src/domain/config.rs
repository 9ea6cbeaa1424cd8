//! The client's fields of an object, of any type: its type and its members, as its kind
//! checked them ([`super::kind`]), with `display_name` set.

use serde::Serialize;
use serde_json::{Map, Value};

use super::catalog::{catalog, TypeId};
use super::document::Document;
use super::nsx_model::model;
use super::{FieldError, ObjectId};

/// The client's fields of an object, with `display_name` set (to the id when the client gave
/// none). Its members have passed its kind's checks.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    resource_type: TypeId,
    members: Map<String, Value>,
}

impl Config {
    /// The config a create makes of `document`, its defaults filled in.
    pub fn create(document: Document, id: &ObjectId) -> Self {
        Self::complete(document.resource_type, document.members, id)
    }

    /// The config of `resource_type` that `members` make, its defaults filled in: the
    /// display name (the id where none is given) and what NSX fills in for the type
    /// (`nsx_model.toml`'s `filled`).
    pub fn complete(resource_type: TypeId, mut members: Map<String, Value>, id: &ObjectId) -> Self {
        if !members.contains_key("display_name") {
            let name = Value::String(id.as_str().to_owned());
            members.insert("display_name".to_owned(), name);
        }
        let type_name = catalog().type_def(resource_type).name.as_str();
        if let Some(filled) = model().filled.get(type_name) {
            for (field, value) in filled {
                if !members.contains_key(field) {
                    members.insert(field.clone(), value.clone());
                }
            }
        }
        Self {
            resource_type,
            members,
        }
    }

    /// Reads back a config this service stored (the `config` and `resource_type` columns).
    pub fn from_stored_json(json: &str, resource_type: &str) -> Result<Self, FieldError> {
        let resource_type = catalog().type_named(resource_type).ok_or_else(|| {
            FieldError::new(
                "resource_type",
                format!("{resource_type} is not in the catalog"),
            )
        })?;
        let members =
            serde_json::from_str(json).map_err(|err| FieldError::new("config", err.to_string()))?;
        Ok(Self {
            resource_type,
            members,
        })
    }

    pub fn resource_type(&self) -> TypeId {
        self.resource_type
    }

    pub fn resource_type_name(&self) -> &'static str {
        &catalog().type_def(self.resource_type).name
    }

    pub fn display_name(&self) -> &str {
        self.members
            .get("display_name")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    pub fn members(&self) -> &Map<String, Value> {
        &self.members
    }

    /// The client's fields as JSON: what the `config` column holds.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.members).expect("a config always serializes")
    }

    /// PATCH semantics: every top-level field the patch sets replaces the stored one (lists
    /// and nested objects whole); the others stay. A patch may not change the type.
    pub fn overlaid_with(self, patch: Document, id: &ObjectId) -> Result<Config, FieldError> {
        if patch.resource_type != self.resource_type {
            return Err(FieldError::new(
                "resource_type",
                format!(
                    "must be {:?}, the stored object's",
                    self.resource_type_name()
                ),
            ));
        }
        let mut members = self.members;
        members.extend(patch.members);
        Ok(Self::complete(self.resource_type, members, id))
    }
}

impl Serialize for Config {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.members.serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::kind::{CatalogOnly, Kinds};
    use crate::domain::ObjectPath;
    use serde_json::json;

    #[test]
    fn a_patch_overlays_top_level_fields_and_keeps_the_type() {
        let at = ObjectPath::from_stored("/infra/segments/web").unwrap();
        let document = |body: Value| {
            CatalogOnly
                .document(body.as_object().unwrap().clone(), &at)
                .unwrap()
        };
        let config = Config::create(
            document(json!({"description": "a", "vlan_ids": ["1"]})),
            at.id(),
        );
        assert_eq!(config.display_name(), "web");
        let merged = config
            .overlaid_with(document(json!({"vlan_ids": ["2"]})), at.id())
            .unwrap();
        // What NSX filled in at the create stays.
        assert_eq!(
            serde_json::to_value(&merged).unwrap(),
            json!({"description": "a", "display_name": "web", "vlan_ids": ["2"],
                "admin_state": "UP", "replication_mode": "MTEP"})
        );
    }
}
