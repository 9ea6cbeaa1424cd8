//! How objects hang together, as NSX Manager keeps it: a create needs its parent, a delete
//! needs the object to have no children, and the objects NSX ships exist from the start.
//!
//! The rules are pure: a store asks [`check`] what a write it has applied needs of the
//! objects around it, looks that up inside the write's own transaction, and refuses the
//! write with the rejection named here when the answer is wrong.

use std::sync::Arc;

use serde_json::{Map, Value};
use uuid::Uuid;

use super::catalog::catalog;
use super::generic::CatalogConfig;
use super::object::Config;
use super::write::{Applied, Change, Operation};
use super::{Metadata, ObjectPath, PolicyObject};

/// The user the defaults are created by; an object created by it is `_system_owned`.
pub const SYSTEM_USER: &str = "system";

/// What an applied write needs of the stored objects around it before it may commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check<'a> {
    Nothing,
    /// A create: this stored object must exist (its parent, see
    /// [`ObjectPath::required_parent`]).
    ParentExists(&'a str),
    /// A delete: no stored object may have this path as its `parent_path`, nor this path's
    /// `Infra` container's (a project's `/infra`).
    Childless(&'a str),
}

/// What `applied` needs: a create its parent, a delete of an object whose route has child
/// routes its absence of children. Every other write needs nothing.
pub fn check(applied: &Applied) -> Check<'_> {
    let path = &applied.object.path;
    match applied.operation {
        Operation::Create => path
            .required_parent()
            .map_or(Check::Nothing, Check::ParentExists),
        Operation::Delete if path.may_have_children() => Check::Childless(path.as_str()),
        _ => Check::Nothing,
    }
}

/// Whether a write of `change` at `path` may need what [`check`] asks, before it is
/// applied: a delete of an object whose route has child routes, a write that may create an
/// object whose parent must be stored. A store that checks under locks takes them only then.
pub fn may_check(path: &ObjectPath, change: &Change) -> bool {
    match change {
        Change::Delete => path.may_have_children(),
        Change::Put(_) | Change::Patch(_) => path.required_parent().is_some(),
    }
}

/// The objects NSX Manager has before anyone writes, which clients read (or write under)
/// first: `(path, resource_type, display_name)`, each after its parent.
const DEFAULTS: &[(&str, &str, &str)] = &[
    ("/infra/domains/default", "Domain", "default"),
    ("/infra/sites/default", "Site", "default"),
    (
        "/infra/sites/default/enforcement-points/default",
        "EnforcementPoint",
        "default",
    ),
    ("/orgs/default", "Org", "default"),
    ("/orgs/default/projects/default", "Project", "default"),
    (
        "/infra/segment-security-profiles/default-segment-security-profile",
        "SegmentSecurityProfile",
        "default-segment-security-profile",
    ),
    (
        "/infra/ip-discovery-profiles/default-ip-discovery-profile",
        "IPDiscoveryProfile",
        "default-ip-discovery-profile",
    ),
    (
        "/infra/mac-discovery-profiles/default-mac-discovery-profile",
        "MacDiscoveryProfile",
        "default-mac-discovery-profile",
    ),
    (
        "/infra/spoofguard-profiles/default-spoofguard-profile",
        "SpoofGuardProfile",
        "default-spoofguard-profile",
    ),
];

/// Whether `object` is one of the defaults the store wrote (by [`SYSTEM_USER`]), changed
/// since or not: an import's line of its path replaces it.
pub fn is_default(object: &PolicyObject) -> bool {
    object.meta.create_user == SYSTEM_USER
        && default_paths().any(|path| path == object.path.as_str())
}

/// Whether `object` is a default no one has changed since the store wrote it: every store
/// has it, so an export leaves it out.
pub fn is_as_shipped(object: &PolicyObject) -> bool {
    is_default(object) && object.meta.revision == 0
}

/// The paths of the defaults, parents first.
pub fn default_paths() -> impl Iterator<Item = &'static str> {
    DEFAULTS.iter().map(|(path, _, _)| *path)
}

/// The defaults as a store writes them at its first start and after a reset: created by
/// [`SYSTEM_USER`] at `now`, revision 0, each with a `unique_id` of its own path (so that
/// every store, and every reset, gives a default the same one).
pub fn defaults(now: i64) -> Vec<Applied> {
    DEFAULTS
        .iter()
        .map(|(path, resource_type, display_name)| {
            let path = ObjectPath::from_stored(path).expect("a default's path is served");
            let resource_type = catalog()
                .type_named(resource_type)
                .expect("a default's type is in the catalog");
            let mut members = Map::new();
            members.insert("display_name".into(), Value::from(*display_name));
            let config = CatalogConfig::complete(resource_type, members, path.id());
            let object = PolicyObject {
                meta: Metadata {
                    unique_id: Uuid::new_v5(&Uuid::NAMESPACE_URL, path.as_str().as_bytes()),
                    revision: 0,
                    create_time: now,
                    create_user: SYSTEM_USER.to_owned(),
                    last_modified_time: now,
                    last_modified_user: SYSTEM_USER.to_owned(),
                    marked_for_delete: false,
                },
                config: Config::Catalog(config),
                path,
            };
            Applied {
                operation: Operation::Create,
                object: Arc::new(object),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_hangs_from_a_root_or_an_earlier_default() {
        let mut present: Vec<String> = Vec::new();
        for applied in defaults(7) {
            match check(&applied) {
                Check::Nothing => {}
                Check::ParentExists(parent) => assert!(
                    present.iter().any(|path| path == parent),
                    "{parent} before its children"
                ),
                Check::Childless(_) => unreachable!("defaults are creates"),
            }
            assert_eq!(applied.object.meta.create_time, 7);
            present.push(applied.object.path.to_string());
        }
        assert_eq!(present, default_paths().collect::<Vec<_>>());
    }
}
