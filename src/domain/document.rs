//! A PUT or PATCH body, as every type takes it: the envelope NSX puts around an object's
//! fields, read here once for every type; the fields are then checked by the object's kind
//! ([`super::kind::Kinds::document`]).
//!
//! The envelope: `id` must be the path's; `_revision` an integer (the concurrency token);
//! `resource_type` the route's type or a subtype of it (which the fields are then checked
//! as); the other fields the server sets, and NSX's link fields, are ignored, as a
//! GET-modify-PUT sends them back.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::catalog::{catalog, RouteId, TypeId};
use super::fields::{LINK_FIELDS, SERVER_FIELDS};
use super::path::ObjectPath;
use super::schema::concrete_type;
use super::FieldError;

/// A PUT or PATCH body for an object, checked: its type (the route's, or the subtype its
/// `resource_type` names), its members as its kind stores them, and the `_revision` it
/// holds. Made by [`super::kind::Kinds::document`].
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub resource_type: TypeId,
    pub members: Map<String, Value>,
    pub revision: Option<i64>,
    /// The embedded lists the body gave, taken out of its members ([`super::embedded::take`]):
    /// written as objects of their own.
    pub embedded: Vec<Listed>,
}

/// The items of one embedded list given with a write of its parent (the README's "Embedded
/// children"): the document of each item's object, at its path. Its parent's objects of
/// `route` become these.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub route: RouteId,
    pub items: Vec<(ObjectPath, Document)>,
}

/// A body's envelope read: a document whose type is decided, whose `_revision` is taken
/// and whose server fields are gone, but whose members are still to be checked by the
/// object's kind ([`Envelope::checked`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope(Document);

impl Envelope {
    /// Reads the envelope of a body's members for the object at `path` (a PUT's body, a
    /// child of a hierarchical body, a line of an import).
    pub fn open(mut object: Map<String, Value>, path: &ObjectPath) -> Result<Self, FieldError> {
        let catalog = catalog();
        let declared = catalog.route(path.route()).object_type;
        match object.remove("id") {
            None | Some(Value::Null) => {}
            Some(given) if given_id(&given).is_some_and(|given| given == path.id().as_str()) => {}
            Some(_) => {
                let id = serde_json::to_string(path.id().as_str()).expect("a string serializes");
                let rule = format!("must be the id in the request path, {id}");
                return Err(FieldError::new("id", rule));
            }
        }
        let revision = revision(object.remove("_revision"))?;
        for field in SERVER_FIELDS.iter().chain(&LINK_FIELDS) {
            if *field != "resource_type" {
                object.remove(*field);
            }
        }
        let polymorphic = !catalog.type_def(declared).subtypes.is_empty();
        let resource_type = concrete_type(catalog, declared, &object, "", polymorphic)?;
        object.remove("resource_type");
        Ok(Self(Document {
            resource_type,
            members: object,
            revision,
            embedded: Vec::new(),
        }))
    }

    /// The document, its members those `check` makes of the body's (given with the type
    /// they are checked as).
    pub fn checked(
        self,
        check: impl FnOnce(TypeId, Map<String, Value>) -> Result<Map<String, Value>, FieldError>,
    ) -> Result<Document, FieldError> {
        let Envelope(mut document) = self;
        document.members = check(
            document.resource_type,
            std::mem::take(&mut document.members),
        )?;
        Ok(document)
    }
}

/// The id a body gives: its text, or an integer's decimal text (Neutron's plugin numbers a
/// policy's rules `"id": 1`, which NSX Manager takes as the id `1`); `None` for any other
/// value.
pub fn given_id(value: &Value) -> Option<Cow<'_, str>> {
    match value {
        Value::String(text) => Some(Cow::Borrowed(text)),
        Value::Number(number) if number.is_i64() || number.is_u64() => {
            Some(Cow::Owned(number.to_string()))
        }
        _ => None,
    }
}

/// `_revision`: an integer, or absent.
pub fn revision(value: Option<Value>) -> Result<Option<i64>, FieldError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) if n.is_i64() => Ok(n.as_i64()),
        Some(_) => Err(FieldError::new("_revision", "must be an integer")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::kind::{CatalogOnly, Kinds};
    use crate::domain::{json_object, BodyError};
    use serde_json::json;

    fn parse(body: Value, at: &str) -> Result<Document, BodyError> {
        let path = ObjectPath::from_stored(at).unwrap();
        let object = json_object(body.to_string().as_bytes())?;
        Ok(CatalogOnly.document(object, &path)?)
    }

    #[test]
    fn the_id_and_the_type_must_agree_with_the_path() {
        let at = "/infra/segments/web";
        assert!(parse(json!({"id": "web", "resource_type": "Segment"}), at).is_ok());
        let err = parse(json!({"id": "db"}), at).unwrap_err().to_string();
        assert_eq!(err, "id: must be the id in the request path, \"web\"");
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
    fn server_fields_are_ignored_and_the_revision_kept() {
        let doc = parse(
            json!({"path": "/x", "_create_user": 7, "_links": [], "id": "web", "_revision": 3}),
            "/infra/segments/web",
        )
        .unwrap();
        assert_eq!(doc.revision, Some(3));
        assert!(doc.members.is_empty(), "{:?}", doc.members);
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
}
