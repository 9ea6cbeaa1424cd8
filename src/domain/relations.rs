//! How objects hang together, as NSX Manager keeps it: a create needs its parent, a delete
//! needs the object to have no children, and the objects NSX ships exist from the start.
//!
//! The rules are pure: a store asks [`check`] what a write it has applied needs of the
//! objects around it, looks that up inside the write's own transaction, and refuses the
//! write with the rejection named here when the answer is wrong.

use std::sync::Arc;

use serde_json::{Map, Value};
use uuid::Uuid;

use super::catalog::{catalog, TypeId};
use super::change::{Applied, Change, Operation, WriteRejection};
use super::embedded;
use super::fields::SYSTEM_USER;
use super::kind::Kinds;
use super::nsx_model::model;
use super::{Config, Metadata, ObjectPath, PolicyObject};

/// One thing an applied write needs of the stored objects around it before it may commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check<'a> {
    /// A create: this stored object must exist (its parent, see
    /// [`ObjectPath::required_parent`]).
    ParentExists(&'a str),
    /// A create, replace or PATCH: an object the new state refers to ([`references`]) must
    /// be stored.
    ReferenceExists(&'a str),
    /// A delete: no stored object may have this path as its `parent_path`, nor this path's
    /// `Infra` container's (a project's `/infra`).
    Childless(&'a str),
    /// A delete: no stored object may refer to this path.
    Unreferenced(&'a str),
}

/// What `applied` needs: a create its parent, a create or change the objects it refers to,
/// a delete that nothing hangs below it or refers to it (where its kind may be referred to).
pub fn checks<'a>(applied: &'a Applied, kinds: &dyn Kinds) -> Vec<Check<'a>> {
    let object = &applied.object;
    let path = &object.path;
    let mut checks = Vec::new();
    match applied.operation {
        Operation::Delete => {
            if path.may_have_children() {
                checks.push(Check::Childless(path.as_str()));
            }
            if kinds.at(path).referable() {
                checks.push(Check::Unreferenced(path.as_str()));
            }
        }
        operation => {
            if operation == Operation::Create {
                checks.extend(path.required_parent().map(Check::ParentExists));
            }
            checks.extend(
                references(object)
                    .into_iter()
                    .filter(|target| !is_shipped_by_nsx(target))
                    .map(Check::ReferenceExists),
            );
        }
    }
    checks
}

/// Whether a write of `change` at `path` may need what [`checks`] asks, before it is
/// applied: a delete of an object that may have children or be referred to, a write that
/// may create an object whose parent must be stored or that names other objects. A store
/// that checks under locks takes them only then.
pub fn may_check(path: &ObjectPath, change: &Change, kinds: &dyn Kinds) -> bool {
    match change {
        Change::Delete => path.may_have_children() || kinds.at(path).referable(),
        Change::Put(document) | Change::Patch(document) => {
            path.required_parent().is_some() || {
                let mut found = Vec::new();
                collect_references(&document.members, &mut found);
                !found.is_empty()
            }
        }
    }
}

/// The paths of the stored objects `object` refers to, each once: the values of the
/// reference fields (`nsx_model.toml`) that are paths of objects clients create. Other values (`ANY`, a transport zone's path, which NSX realizes from
/// its inventory and this store does not keep) are not references it checks.
pub fn references(object: &PolicyObject) -> Vec<&str> {
    let mut found = Vec::new();
    collect_references(object.config.members(), &mut found);
    found.sort_unstable();
    found.dedup();
    found
}

fn collect_references<'a>(members: &'a Map<String, Value>, found: &mut Vec<&'a str>) {
    let model = model();
    let fields_of_type = members
        .get("resource_type")
        .and_then(Value::as_str)
        .and_then(|resource_type| model.reference_fields_of.get(resource_type));
    // Asked in the order of their cost, and only of text: most of a body's values are
    // numbers, flags, nested objects and text that is no path.
    let refers = |field: &String, text: &str| {
        text.starts_with('/')
            && (model.reference_fields.contains(field)
                || fields_of_type.is_some_and(|fields| fields.contains(field)))
            && is_object_path(text)
    };
    for (field, value) in members {
        match value {
            Value::String(text) if refers(field, text) => found.push(text),
            Value::Array(items) => {
                for item in items {
                    match item {
                        Value::String(text) if refers(field, text) => found.push(text),
                        Value::Object(nested) => collect_references(nested, found),
                        _ => {}
                    }
                }
            }
            Value::Object(nested) => collect_references(nested, found),
            _ => {}
        }
    }
}

/// Whether `text` is the path of an object of a type clients create (a route with PUT or
/// PATCH).
fn is_object_path(text: &str) -> bool {
    ObjectPath::from_stored(text).is_ok_and(|path| {
        let methods = &catalog().route(path.route()).methods;
        methods.put || methods.patch
    })
}

fn is_shipped_by_nsx(target: &str) -> bool {
    ObjectPath::from_stored(target).is_ok_and(|path| {
        let catalog = catalog();
        let type_name = &catalog
            .type_def(catalog.route(path.route()).object_type)
            .name;
        model().shipped_in_bulk.contains(type_name)
    })
}

/// Whether the system created `object` (a default, a project's own domain), changed since
/// or not: an import's line of its path replaces it.
pub fn is_system_owned(object: &PolicyObject) -> bool {
    object.meta.create_user == SYSTEM_USER
}

/// Whether `user` may delete `object` as a client deletes (the object itself, or the root of
/// a tree's delete): not where the system created it, as NSX keeps its own objects (a
/// default, a project's domain, a gateway's NAT sections), which go only with their owner.
pub fn check_deletable(object: &PolicyObject, user: &str) -> Result<(), WriteRejection> {
    if !is_system_owned(object) {
        return Ok(());
    }
    Err(WriteRejection::NotOwned {
        user: user.to_owned(),
        resource_type: object.resource_type().to_owned(),
        owner: SYSTEM_USER.to_owned(),
    })
}

/// Whether `object` is one the system wrote that no one has changed since: every store has
/// the defaults, and an import of a project writes its domain again, so an export leaves
/// it out.
pub fn is_as_shipped(object: &PolicyObject) -> bool {
    is_system_owned(object) && object.meta.revision == 0
}

/// The paths of the defaults, parents first.
pub fn default_paths() -> Vec<String> {
    defaults(0)
        .iter()
        .map(|default| default.object.path.to_string())
        .collect()
}

/// The defaults as a store writes them at its first start and after a reset: created by
/// [`SYSTEM_USER`] at `now`, revision 0, each with a `unique_id` of its own path (so that
/// every store, and every reset, gives a default the same one). A default's embedded lists
/// (a default section's `rules`) are objects of their own, right after it.
pub fn defaults(now: i64) -> Vec<Applied> {
    let mut defaults = Vec::new();
    for default in &model().defaults {
        let path = ObjectPath::from_stored(&default.path).expect("a default's path is served");
        let resource_type = catalog()
            .type_named(&default.resource_type)
            .expect("a default's type is in the catalog");
        let mut members = default.fields.clone();
        members.insert(
            "display_name".into(),
            Value::from(default.display_name.as_str()),
        );
        let children = embedded::shipped(&path, &mut members);
        let unique_id = Uuid::new_v5(&Uuid::NAMESPACE_URL, path.as_str().as_bytes());
        defaults.push(shipped_with(path, resource_type, members, now, unique_id));
        for (path, resource_type, members) in children {
            let unique_id = Uuid::new_v5(&Uuid::NAMESPACE_URL, path.as_str().as_bytes());
            defaults.push(shipped_with(path, resource_type, members, now, unique_id));
        }
    }
    defaults
}

/// An object the system creates: by [`SYSTEM_USER`] at `now`, revision 0.
pub fn shipped(
    path: ObjectPath,
    resource_type: &str,
    display_name: &str,
    now: i64,
    unique_id: Uuid,
) -> Applied {
    let resource_type = catalog()
        .type_named(resource_type)
        .expect("a shipped object's type is in the catalog");
    let mut members = Map::new();
    members.insert("display_name".into(), Value::from(display_name));
    shipped_with(path, resource_type, members, now, unique_id)
}

/// An object of `resource_type` with `members` the system creates: by [`SYSTEM_USER`] at
/// `now`, revision 0.
pub fn shipped_with(
    path: ObjectPath,
    resource_type: TypeId,
    members: Map<String, Value>,
    now: i64,
    unique_id: Uuid,
) -> Applied {
    let config = Config::complete(resource_type, members, path.id());
    let meta = Metadata {
        unique_id,
        revision: 0,
        create_time: now,
        create_user: SYSTEM_USER.to_owned(),
        last_modified_time: now,
        last_modified_user: SYSTEM_USER.to_owned(),
        marked_for_delete: false,
    };
    let object = PolicyObject::new(path, config, meta);
    Applied {
        operation: Operation::Create,
        object: Arc::new(object),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::kind::CatalogOnly;

    #[test]
    fn every_default_hangs_from_a_root_or_an_earlier_default() {
        let mut present: Vec<String> = Vec::new();
        for applied in defaults(7) {
            for check in checks(&applied, &CatalogOnly) {
                match check {
                    Check::ParentExists(parent) => assert!(
                        present.iter().any(|path| path == parent),
                        "{parent} before its children"
                    ),
                    other => unreachable!("a default needs only its parent: {other:?}"),
                }
            }
            assert_eq!(applied.object.meta.create_time, 7);
            present.push(applied.object.path.to_string());
        }
        assert_eq!(present, default_paths());
    }

    fn object(path: &str, body: Value) -> PolicyObject {
        let path = ObjectPath::from_stored(path).unwrap();
        let document = CatalogOnly
            .document(body.as_object().unwrap().clone(), &path)
            .unwrap();
        let mut object = defaults(0).remove(0).object.as_ref().clone();
        object.config = Config::create(document, path.id());
        object.path = path;
        object
    }

    #[test]
    fn references_are_paths_of_objects_clients_create_in_the_fields_nsx_checks() {
        let rule = object(
            "/infra/domains/default/security-policies/p/rules/r1",
            serde_json::json!({"resource_type": "Rule", "id": "r1",
                 "source_groups": ["/infra/domains/default/groups/web", "ANY"],
                 "destination_groups": ["/infra/domains/default/groups/db"],
                 "services": ["/infra/services/HTTP"], "scope": ["ANY"],
                 "description": "/infra/domains/default/groups/not-a-reference"}),
        );
        assert_eq!(
            references(&rule),
            [
                "/infra/domains/default/groups/db",
                "/infra/domains/default/groups/web",
                "/infra/services/HTTP",
            ]
        );
        let applied = Applied {
            operation: Operation::Replace,
            object: Arc::new(rule),
        };
        // A shipped service is recorded, not required.
        assert_eq!(
            checks(&applied, &CatalogOnly),
            [
                Check::ReferenceExists("/infra/domains/default/groups/db"),
                Check::ReferenceExists("/infra/domains/default/groups/web"),
            ]
        );

        let group = object(
            "/infra/domains/default/groups/g",
            serde_json::json!({"expression": [
                {"resource_type": "PathExpression", "paths": ["/infra/segments/s1"]},
                {"resource_type": "IPAddressExpression", "ip_addresses": ["10.0.0.1"]}
            ]}),
        );
        assert_eq!(references(&group), ["/infra/segments/s1"]);

        // A transport zone is NSX's inventory, not an object clients create here.
        let segment = object(
            "/infra/segments/s1",
            serde_json::json!({
                "connectivity_path": "/infra/tier-1s/t1",
                "transport_zone_path":
                    "/infra/sites/default/enforcement-points/default/transport-zones/tz"
            }),
        );
        assert_eq!(references(&segment), ["/infra/tier-1s/t1"]);
    }
}
