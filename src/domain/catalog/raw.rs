//! The catalog file's own shape, as `tools/catalog/generate.py` writes it, and how its encoded
//! names resolve.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use super::{Field, FieldType, TypeId};

/// The types NSX's JSON spells otherwise than the SDK's class (`QoSProfile` for
/// `QosProfile`), by class name: where a wrapper carries a type under a key that is its
/// class name but for the case of letters, the key is NSX's spelling (the Go SDK's
/// `ChildQosProfile__TYPE_IDENTIFIER` is `ChildQoSProfile`; nsxlib and terraform-provider-nsxt
/// send `QoSProfile`).
pub(super) fn wire_names(children: &BTreeMap<String, RawChild>) -> HashMap<&str, &str> {
    children
        .values()
        .filter(|raw| raw.key != raw.object_type && raw.key.eq_ignore_ascii_case(&raw.object_type))
        .map(|raw| (raw.object_type.as_str(), raw.key.as_str()))
        .collect()
}

/// The file's own shape (the generator's `catalog()`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCatalog {
    pub(super) sdk: String,
    pub(super) objects: Vec<RawObject>,
    pub(super) children: BTreeMap<String, RawChild>,
    pub(super) types: BTreeMap<String, RawType>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawChild {
    pub(super) key: String,
    #[serde(rename = "type")]
    pub(super) object_type: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawObject {
    pub(super) path: String,
    #[serde(rename = "type")]
    pub(super) object_type: String,
    pub(super) methods: Vec<String>,
    pub(super) list: Option<String>,
    #[serde(default)]
    pub(super) list_query: Vec<String>,
    #[serde(default)]
    pub(super) patch_answers: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawType {
    pub(super) fields: BTreeMap<String, RawField>,
    #[serde(default)]
    pub(super) subtypes: Vec<String>,
    /// The field naming a value's subtype, where it is not `resource_type`.
    pub(super) discriminator: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawField {
    #[serde(rename = "type")]
    pub(super) ty: String,
    #[serde(default)]
    pub(super) required: bool,
    #[serde(default)]
    pub(super) read_only: bool,
    #[serde(rename = "enum")]
    pub(super) values: Option<Vec<String>>,
    pub(super) minimum: Option<i64>,
    pub(super) maximum: Option<i64>,
    pub(super) min_length: Option<u64>,
    pub(super) max_length: Option<u64>,
}

impl RawField {
    pub(super) fn resolve(
        &self,
        lookup: &impl Fn(&str) -> Result<TypeId, String>,
    ) -> Result<Field, String> {
        Ok(Field {
            ty: field_type(&self.ty, lookup)?,
            required: self.required,
            read_only: self.read_only,
            values: self.values.clone(),
            minimum: self.minimum,
            maximum: self.maximum,
            min_length: self.min_length,
            max_length: self.max_length,
        })
    }
}

/// A type as the generator encodes it: `string`, `integer`, `number`, `boolean`, `any`,
/// `@Name` (a struct), `*Name` (a polymorphic struct), `[` before a list's items.
fn field_type(
    encoded: &str,
    lookup: &impl Fn(&str) -> Result<TypeId, String>,
) -> Result<FieldType, String> {
    Ok(match encoded {
        "string" => FieldType::String,
        "integer" => FieldType::Integer,
        "number" => FieldType::Number,
        "boolean" => FieldType::Boolean,
        "any" => FieldType::Any,
        _ => {
            if let Some(items) = encoded.strip_prefix('[') {
                FieldType::List(Box::new(field_type(items, lookup)?))
            } else if let Some(name) = encoded.strip_prefix('@') {
                FieldType::Struct(lookup(name)?)
            } else if let Some(name) = encoded.strip_prefix('*') {
                FieldType::Polymorphic(lookup(name)?)
            } else {
                return Err(format!(
                    "the catalog has the unknown field type {encoded:?}"
                ));
            }
        }
    })
}
