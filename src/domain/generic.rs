//! Objects of the catalog's types (every type but traceflow configs, which have their own
//! module): how a body becomes one, checked by [`super::schema`], and what a PATCH merges.

use serde::Serialize;
use serde_json::{Map, Value};

use super::catalog::{catalog, TypeId};
use super::object::SERVER_FIELDS;
use super::path::ObjectPath;
use super::schema::{check_object, LINK_FIELDS};
use super::{json_object, BodyError, FieldError, ObjectId};

/// The client's fields of an object of a catalog type, with `display_name` set (to the id
/// when the client gave none). Its members have passed the type's checks.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogConfig {
    resource_type: TypeId,
    members: Map<String, Value>,
}

impl CatalogConfig {
    /// The config a checked body makes, its defaults filled in.
    pub fn complete(resource_type: TypeId, mut members: Map<String, Value>, id: &ObjectId) -> Self {
        members
            .entry("display_name")
            .or_insert_with(|| Value::String(id.as_str().to_owned()));
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

    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.members).expect("a config always serializes")
    }

    /// PATCH semantics: every top-level field the patch sets replaces the stored one (lists
    /// and nested objects whole); the others stay. A patch may not change the type.
    pub fn overlaid_with(
        self,
        patch: CatalogDocument,
        id: &ObjectId,
    ) -> Result<CatalogConfig, FieldError> {
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

impl Serialize for CatalogConfig {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.members.serialize(serializer)
    }
}

/// A PUT or PATCH body for an object of a catalog type, checked: its type (the route's, or
/// the subtype its `resource_type` names), its members and the `_revision` it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogDocument {
    pub resource_type: TypeId,
    pub members: Map<String, Value>,
    pub revision: Option<i64>,
}

impl CatalogDocument {
    /// Parses a request body for the object at `path`.
    pub fn parse(body: &[u8], path: &ObjectPath) -> Result<Self, BodyError> {
        Ok(Self::from_object(json_object(body)?, path)?)
    }

    /// The document a body's members make for the object at `path`. The server's fields a
    /// GET-modify-PUT sends back are ignored, but `id` must be the path's and `resource_type`
    /// the route's type or one of its subtypes.
    pub fn from_object(
        mut object: Map<String, Value>,
        path: &ObjectPath,
    ) -> Result<Self, FieldError> {
        let catalog = catalog();
        let declared = catalog.route(path.route()).object_type;
        match object.remove("id") {
            None | Some(Value::Null) => {}
            Some(Value::String(given)) if given == path.id().as_str() => {}
            Some(_) => {
                return Err(FieldError::new(
                    "id",
                    format!(
                        "must be the id in the request path, {:?}",
                        path.id().as_str()
                    ),
                ))
            }
        }
        let revision = match object.remove("_revision") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) if n.is_i64() => n.as_i64(),
            Some(_) => return Err(FieldError::new("_revision", "must be an integer")),
        };
        for field in SERVER_FIELDS.iter().chain(&LINK_FIELDS) {
            if *field != "resource_type" {
                object.remove(*field);
            }
        }
        let polymorphic = !catalog.type_def(declared).subtypes.is_empty();
        let (resource_type, mut members) =
            check_object(catalog, declared, object, "", polymorphic)?;
        members.remove("resource_type");
        Ok(Self {
            resource_type,
            members,
            revision,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn path(text: &str) -> ObjectPath {
        ObjectPath::from_stored(text).unwrap()
    }

    fn parse(body: Value, at: &str) -> Result<CatalogDocument, BodyError> {
        CatalogDocument::parse(body.to_string().as_bytes(), &path(at))
    }

    #[test]
    fn the_id_and_the_type_must_agree_with_the_path() {
        let at = "/infra/segments/web";
        assert!(parse(json!({"id": "web", "resource_type": "Segment"}), at).is_ok());
        let err = parse(json!({"id": "db"}), at).unwrap_err().to_string();
        assert!(
            err.starts_with("id: must be the id in the request path"),
            "{err}"
        );
        let err = parse(json!({"resource_type": "Group"}), at)
            .unwrap_err()
            .to_string();
        assert_eq!(err, "resource_type: must be one of Segment");
        let err = parse(json!({"_revision": "1"}), at)
            .unwrap_err()
            .to_string();
        assert_eq!(err, "_revision: must be an integer");
    }

    #[test]
    fn a_polymorphic_route_takes_the_subtype_its_body_names() {
        let at = "/infra/services/web/service-entries/http";
        let doc = parse(
            json!({"resource_type": "L4PortSetServiceEntry", "l4_protocol": "TCP"}),
            at,
        )
        .unwrap();
        assert_eq!(
            catalog().type_def(doc.resource_type).name,
            "L4PortSetServiceEntry"
        );
        assert!(parse(json!({"l4_protocol": "TCP"}), at).is_err());
    }

    #[test]
    fn a_patch_overlays_top_level_fields_and_keeps_the_type() {
        let at = path("/infra/segments/web");
        let stored = CatalogDocument::from_object(
            json!({"description": "a", "vlan_ids": ["1"]})
                .as_object()
                .unwrap()
                .clone(),
            &at,
        )
        .unwrap();
        let config = CatalogConfig::complete(stored.resource_type, stored.members, at.id());
        assert_eq!(config.display_name(), "web");
        let patch = CatalogDocument::from_object(
            json!({"vlan_ids": ["2"]}).as_object().unwrap().clone(),
            &at,
        )
        .unwrap();
        let merged = config.overlaid_with(patch, at.id()).unwrap();
        assert_eq!(
            serde_json::to_value(&merged).unwrap(),
            json!({"description": "a", "display_name": "web", "vlan_ids": ["2"]})
        );
    }
}
