//! What NSX Manager has and does beyond what the bindings' schema says of its types, as data
//! (`nsx_model.toml`, where each rule names its source; what a fresh NSX has, `shipped.toml`):
//! read once, and asked by the rules that use it (`relations.rs`: references and the objects
//! NSX ships; `config.rs`: the fields NSX fills in; `catalog/`: the values NSX takes beyond
//! the bindings' enums).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;
use serde_json::{Map, Value};

/// NSX's model beyond the schema, as `nsx_model.toml` writes it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NsxModel {
    /// The fields whose values name other objects by their path, in any body.
    pub reference_fields: Vec<String>,
    /// The fields that name objects only in a body of the given `resource_type`.
    pub reference_fields_of: BTreeMap<String, Vec<String>>,
    /// The types of which NSX ships hundreds of objects this store does not carry.
    pub shipped_in_bulk: Vec<String>,
    /// The objects NSX Manager has before anyone writes (`shipped.toml`).
    #[serde(skip)]
    pub defaults: Vec<ShippedObject>,
    /// What NSX fills in where a create or a replace of an object of the type leaves a
    /// field out, by type name.
    pub filled: BTreeMap<String, Map<String, Value>>,
    /// The values NSX takes for a field beyond the enum the bindings list, by type name and
    /// field.
    pub accepted: BTreeMap<String, BTreeMap<String, Vec<String>>>,
    /// The realized entities NSX reports for an intent, by the intent's type name.
    pub realized: BTreeMap<String, Vec<RealizedEntity>>,
}

/// A realized entity NSX reports for an intent.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RealizedEntity {
    /// What NSX names it (`RealizedLogicalSwitch`).
    pub entity_type: String,
    /// Its id where it is not the intent's (a VPC's `gateway-interface`).
    #[serde(default)]
    pub id: Option<String>,
    /// Its extended attributes: the intent's field each key shows.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// What a fresh NSX Manager has, as `shipped.toml` writes it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Shipped {
    defaults: Vec<ShippedObject>,
}

/// An object NSX Manager has before anyone writes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShippedObject {
    pub path: String,
    pub resource_type: String,
    pub display_name: String,
    /// Its other fields, as NSX ships them.
    #[serde(default)]
    pub fields: Map<String, Value>,
}

/// The model, read on first use.
pub fn model() -> &'static NsxModel {
    static MODEL: LazyLock<NsxModel> = LazyLock::new(|| {
        let mut model: NsxModel =
            toml::from_str(include_str!("nsx_model.toml")).expect("nsx_model.toml is valid");
        let shipped: Shipped =
            toml::from_str(include_str!("shipped.toml")).expect("shipped.toml is valid");
        model.defaults = shipped.defaults;
        model
    });
    &MODEL
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::catalog::catalog;
    use crate::domain::schema::check_members;

    /// What NSX fills in is valid for its type: every field the type's own, and each one a
    /// client may write of its type and values (a read-only one, such as a group's
    /// `reference`, is NSX's to set).
    #[test]
    fn what_nsx_fills_in_is_valid_for_its_type() {
        let catalog = catalog();
        for (type_name, filled) in &model().filled {
            let id = catalog
                .type_named(type_name)
                .unwrap_or_else(|| panic!("{type_name} is not in the catalog"));
            assert_eq!(&catalog.type_def(id).name, type_name, "NSX's spelling");
            let fields = &catalog.type_def(id).fields;
            let mut writable = filled.clone();
            writable.retain(|field, _| !fields[field].read_only);
            let checked = check_members(catalog, id, writable.clone(), "")
                .unwrap_or_else(|error| panic!("{type_name}: {error}"));
            assert_eq!(checked, writable, "{type_name}");
        }
    }

    /// Every default's fields are valid for its type, as a client's create would be, but
    /// those that are read-only, NSX's to set (an edge node's `member_index`), which are
    /// fields of its type.
    #[test]
    fn the_defaults_fields_are_valid_for_their_types() {
        for default in &model().defaults {
            let id = catalog()
                .type_named(&default.resource_type)
                .expect("a type");
            let fields = &catalog().type_def(id).fields;
            let mut writable = default.fields.clone();
            writable.retain(|field, _| !fields[field].read_only);
            let checked = check_members(catalog(), id, writable.clone(), "")
                .unwrap_or_else(|error| panic!("{}: {error}", default.path));
            assert_eq!(checked, writable, "{}", default.path);
        }
    }

    /// Every realized entity is listed under a type of the catalog, and shows fields it has.
    #[test]
    fn realized_entities_are_of_catalog_types() {
        for (type_name, entities) in &model().realized {
            let id = catalog()
                .type_named(type_name)
                .unwrap_or_else(|| panic!("{type_name} is not in the catalog"));
            let fields = &catalog().type_def(id).fields;
            for field in entities
                .iter()
                .flat_map(|entity| entity.attributes.values())
            {
                assert!(fields.contains_key(field), "{type_name}.{field}");
            }
        }
    }

    /// Every value NSX takes beyond an enum is of a field the bindings give an enum without
    /// it, and the catalog takes it.
    #[test]
    fn accepted_values_extend_enums_of_the_catalog() {
        let bindings =
            crate::domain::catalog::Catalog::parse(include_str!("../../catalog/policy.json"))
                .expect("the committed catalog parses");
        for (type_name, fields) in &model().accepted {
            for (field, values) in fields {
                let enum_of = |catalog: &crate::domain::catalog::Catalog| {
                    let id = catalog.type_named(type_name).expect("a catalog type");
                    let field = &catalog.type_def(id).fields[field];
                    field.values.clone().expect("a field with an enum")
                };
                let (listed, taken) = (enum_of(&bindings), enum_of(catalog()));
                for value in values {
                    assert!(
                        !listed.contains(value),
                        "{type_name}.{field}: {value} is listed"
                    );
                    assert!(
                        taken.contains(value),
                        "{type_name}.{field}: {value} is taken"
                    );
                }
            }
        }
    }
}
