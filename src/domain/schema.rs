//! Validation from the catalog: a body's members checked against its type's fields, at every
//! depth, and returned as they are stored. The first field that breaks a rule is named by its
//! dotted path (`subnets[0].gateway_address`, `service_entries[1].l4_protocol`).
//!
//! The rules, all from the catalog (the README's "Validation"):
//! - a member the type does not have is refused: the store is closed, as it is for traceflows;
//! - a value must have its field's type: string, integer (no fraction), number, boolean,
//!   object, array; a number where a string is declared is taken as its text, as NSX takes it;
//! - a string must be one of its field's values where the SDK lists them, and within its
//!   lengths; an integer within its range;
//! - an object declared as a type with subtypes is checked as the type its `resource_type`
//!   (or `type`, where the bindings discriminate by it) names; a polymorphic one (the SDK's dynamic structs, such as a group's `expression`) must
//!   name one;
//! - read-only fields, the server's fields and `null`s are dropped, as a GET-modify-PUT sends
//!   them back.

use serde_json::{Map, Value};

use super::catalog::{Catalog, Field, FieldType, TypeId};
use super::fields::{LINK_FIELDS, SERVER_FIELDS};
use super::FieldError;

/// The members kept from a nested object: the server's fields but these two, which a nested
/// value sets itself (its type and its id within its parent).
const KEPT_NESTED: [&str; 2] = ["resource_type", "id"];

/// Checks `members`, an object declared as `declared`, and answers the type it is (a subtype
/// where its `resource_type` names one) and the members to store. `at` is its dotted path
/// (empty for a request's body). `polymorphic`: the object must name its type.
pub fn check_object(
    catalog: &Catalog,
    declared: TypeId,
    members: Map<String, Value>,
    at: &str,
    polymorphic: bool,
) -> Result<(TypeId, Map<String, Value>), FieldError> {
    let concrete = concrete_type(catalog, declared, &members, at, polymorphic)?;
    Ok((concrete, check_members(catalog, concrete, members, at)?))
}

/// Checks `members` as an object of `concrete`, its type decided: answers the members to
/// store. `at` is its dotted path (empty for a request's body).
pub fn check_members(
    catalog: &Catalog,
    concrete: TypeId,
    members: Map<String, Value>,
    at: &str,
) -> Result<Map<String, Value>, FieldError> {
    let type_def = catalog.type_def(concrete);
    let mut kept = Map::new();
    for (name, value) in members {
        let path = member_path(at, &name);
        if value.is_null() || LINK_FIELDS.contains(&name.as_str()) {
            continue;
        }
        if SERVER_FIELDS.contains(&name.as_str()) && !KEPT_NESTED.contains(&name.as_str()) {
            continue;
        }
        let Some(field) = type_def.fields.get(&name) else {
            return Err(FieldError::new(
                path,
                format!("unknown field: {} has no such property", type_def.name),
            ));
        };
        if field.read_only {
            continue;
        }
        kept.insert(name, check_value(catalog, field, &field.ty, value, &path)?);
    }
    for (name, field) in &type_def.fields {
        if field.required && !kept.contains_key(name) {
            return Err(FieldError::new(
                member_path(at, name),
                "required property not present",
            ));
        }
    }
    Ok(kept)
}

/// The type an object declared as `declared` is: the one its discriminator (`resource_type`,
/// or the field the bindings name instead: an LB rule action's `type`) names, which must be
/// `declared` or one of its subtypes. `polymorphic`: the object must name its type.
pub fn concrete_type(
    catalog: &Catalog,
    declared: TypeId,
    members: &Map<String, Value>,
    at: &str,
    polymorphic: bool,
) -> Result<TypeId, FieldError> {
    let type_def = catalog.type_def(declared);
    let allowed = || {
        let mut names: Vec<&str> = std::iter::once(declared)
            .chain(type_def.subtypes.iter().copied())
            .map(|id| catalog.type_def(id).name.as_str())
            .collect();
        names.sort_unstable();
        names.dedup();
        format!("must be one of {}", names.join(", "))
    };
    let discriminator = type_def.discriminator.as_str();
    let path = member_path(at, discriminator);
    match members.get(discriminator) {
        None | Some(Value::Null) if polymorphic && !type_def.subtypes.is_empty() => {
            Err(FieldError::new(
                path,
                format!("required property not present; {}", allowed()),
            ))
        }
        None | Some(Value::Null) => Ok(declared),
        // By the type a name names: NSX's spelling, or the SDK's class name of it.
        Some(Value::String(name)) => {
            let named = catalog.type_named(name);
            std::iter::once(declared)
                .chain(type_def.subtypes.iter().copied())
                .find(|id| Some(*id) == named)
                .ok_or_else(|| FieldError::new(path, allowed()))
        }
        Some(_) => Err(FieldError::new(path, "must be a string")),
    }
}

fn check_value(
    catalog: &Catalog,
    field: &Field,
    ty: &FieldType,
    value: Value,
    at: &str,
) -> Result<Value, FieldError> {
    let wrong = |what: &str| Err(FieldError::new(at, format!("must be {what}")));
    match (ty, value) {
        (FieldType::Any, value) => Ok(value),
        (FieldType::String, Value::String(text)) => {
            check_string(field, &text, at)?;
            Ok(Value::String(text))
        }
        // NSX Manager takes a number where a string is declared, as its text (vmware-nsx's
        // Octavia driver writes an LB pool member's `port` as a number).
        (FieldType::String, Value::Number(number)) => {
            let text = number.to_string();
            check_string(field, &text, at)?;
            Ok(Value::String(text))
        }
        (FieldType::Integer, Value::Number(number)) => {
            let Some(integer) = number.as_i64() else {
                return wrong("an integer");
            };
            check_range(field, integer, at)?;
            Ok(Value::Number(number))
        }
        (FieldType::Number, Value::Number(number)) => Ok(Value::Number(number)),
        (FieldType::Boolean, Value::Bool(flag)) => Ok(Value::Bool(flag)),
        (FieldType::Struct(declared), Value::Object(members)) => {
            check_object(catalog, *declared, members, at, false)
                .map(|(_, kept)| Value::Object(kept))
        }
        (FieldType::Polymorphic(declared), Value::Object(members)) => {
            check_object(catalog, *declared, members, at, true).map(|(_, kept)| Value::Object(kept))
        }
        (FieldType::List(items), Value::Array(values)) => values
            .into_iter()
            .enumerate()
            .map(|(index, item)| {
                let path = format!("{at}[{index}]");
                match item {
                    Value::Null => Err(FieldError::new(path, "must not be null")),
                    item => check_value(catalog, field, items, item, &path),
                }
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        (FieldType::String, _) => wrong("a string"),
        (FieldType::Integer, _) => wrong("an integer"),
        (FieldType::Number, _) => wrong("a number"),
        (FieldType::Boolean, _) => wrong("a boolean"),
        (FieldType::Struct(_) | FieldType::Polymorphic(_), _) => wrong("an object"),
        (FieldType::List(_), _) => wrong("an array"),
    }
}

fn check_string(field: &Field, text: &str, at: &str) -> Result<(), FieldError> {
    if let Some(values) = &field.values {
        if !values.iter().any(|value| value == text) {
            return Err(FieldError::new(
                at,
                format!("must be one of {}", values.join(", ")),
            ));
        }
    }
    let chars = text.chars().count() as u64;
    if let Some(max) = field.max_length.filter(|max| chars > *max) {
        return Err(FieldError::new(
            at,
            format!("must be at most {max} characters long"),
        ));
    }
    if let Some(min) = field.min_length.filter(|min| chars < *min) {
        return Err(FieldError::new(
            at,
            format!("must be at least {min} characters long"),
        ));
    }
    Ok(())
}

fn check_range(field: &Field, value: i64, at: &str) -> Result<(), FieldError> {
    let message = match (field.minimum, field.maximum) {
        (Some(min), Some(max)) if value < min || value > max => {
            format!("must be an integer between {min} and {max}")
        }
        (Some(min), None) if value < min => format!("must be an integer of at least {min}"),
        (None, Some(max)) if value > max => format!("must be an integer of at most {max}"),
        _ => return Ok(()),
    };
    Err(FieldError::new(at, message))
}

fn member_path(at: &str, name: &str) -> String {
    if at.is_empty() {
        name.to_owned()
    } else {
        format!("{at}.{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::catalog::catalog;
    use serde_json::json;

    fn check(type_name: &str, body: Value) -> Result<(String, Value), FieldError> {
        let catalog = catalog();
        let declared = catalog.type_named(type_name).unwrap();
        let Value::Object(members) = body else {
            panic!("a test body is an object")
        };
        let polymorphic = !catalog.type_def(declared).subtypes.is_empty();
        check_object(catalog, declared, members, "", polymorphic)
            .map(|(ty, kept)| (catalog.type_def(ty).name.clone(), Value::Object(kept)))
    }

    fn refused(type_name: &str, body: Value) -> String {
        check(type_name, body).unwrap_err().to_string()
    }

    #[test]
    fn a_valid_segment_is_kept_as_sent() {
        let body = json!({
            "display_name": "web",
            "subnets": [{"gateway_address": "10.0.0.1/24"}],
            "admin_state": "UP",
            "tags": [{"scope": "env", "tag": "test"}],
        });
        let (ty, kept) = check("Segment", body.clone()).unwrap();
        assert_eq!(ty, "Segment");
        assert_eq!(kept, body);
    }

    #[test]
    fn errors_name_the_field_by_its_dotted_path() {
        assert_eq!(
            refused("Segment", json!({"subnets": [{"gateway_adress": "x"}]})),
            "subnets[0].gateway_adress: unknown field: SegmentSubnet has no such property"
        );
        assert_eq!(
            refused("Segment", json!({"admin_state": "SIDEWAYS"})),
            "admin_state: must be one of UP, DOWN"
        );
        assert_eq!(
            refused("Segment", json!({"vlan_ids": "100"})),
            "vlan_ids: must be an array"
        );
        assert_eq!(
            refused("Segment", json!({"tags": [{"scope": "x".repeat(129)}]})),
            "tags[0].scope: must be at most 128 characters long"
        );
        assert_eq!(
            refused("Segment", json!({"overlay_id": -1})),
            "overlay_id: must be an integer between 0 and 2147483647"
        );
        assert_eq!(
            refused("Segment", json!({"overlay_id": 1.5})),
            "overlay_id: must be an integer"
        );
        assert_eq!(
            refused("Segment", json!({"tags": [null]})),
            "tags[0]: must not be null"
        );
    }

    #[test]
    fn polymorphic_values_are_checked_as_the_type_they_name() {
        let service = json!({"service_entries": [{
            "resource_type": "L4PortSetServiceEntry", "id": "http",
            "l4_protocol": "TCP", "destination_ports": ["80"],
        }]});
        check("Service", service).unwrap();
        assert_eq!(
            refused(
                "Service",
                json!({"service_entries": [{"resource_type": "ICMPTypeServiceEntry", "l4_protocol": "TCP"}]})
            ),
            "service_entries[0].l4_protocol: unknown field: ICMPTypeServiceEntry has no such property"
        );
        let missing = refused("Group", json!({"expression": [{"key": "Tag"}]}));
        assert!(
            missing.starts_with("expression[0].resource_type: required property not present"),
            "{missing}"
        );
        let bad = refused(
            "Group",
            json!({"expression": [{"resource_type": "Segment"}]}),
        );
        assert!(bad.contains("must be one of "), "{bad}");
        // A body of a polymorphic route names its type too.
        let (ty, _) = check(
            "ServiceEntry",
            json!({"resource_type": "L4PortSetServiceEntry", "l4_protocol": "UDP"}),
        )
        .unwrap();
        assert_eq!(ty, "L4PortSetServiceEntry");
    }

    #[test]
    fn read_only_and_server_fields_and_nulls_are_dropped() {
        let (_, kept) = check(
            "Segment",
            json!({
                "type": "ROUTED",
                "path": "/infra/segments/s",
                "_create_time": 5,
                "_links": [],
                "description": null,
                "display_name": "s",
            }),
        )
        .unwrap();
        assert_eq!(kept, json!({"display_name": "s"}));
        let (_, kept) = check(
            "Service",
            json!({"service_entries": [{"resource_type": "L4PortSetServiceEntry", "id": "e",
                    "l4_protocol": "TCP", "path": "/infra/services/s/service-entries/e"}]}),
        )
        .unwrap();
        assert_eq!(
            kept["service_entries"][0],
            json!({"resource_type": "L4PortSetServiceEntry", "id": "e", "l4_protocol": "TCP"})
        );
    }

    #[test]
    fn hostile_values_are_refused_not_trusted() {
        for body in [
            json!({"display_name": {"$ne": 1}}),
            json!({"subnets": [[[[]]]]}),
            json!({"overlay_id": 1e308}),
            json!({"overlay_id": 18446744073709551615u64}),
            json!({"advanced_config": "x"}),
            json!({"tags": {"0": {}}}),
        ] {
            assert!(check("Segment", body.clone()).is_err(), "{body}");
        }
    }
}
