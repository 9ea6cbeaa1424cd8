//! Embedded children (the README's "Embedded children"): where a type's list field holds
//! objects of a route right below it ([`Embedded`]: a security policy's `rules`, a service's
//! `service_entries`), NSX keeps each item as an object of its own, with its own path,
//! `_revision` and history, and shows them in the parent's field.
//!
//! A write of the parent that gives the field replaces the parent's objects of that route
//! with the list's items: each item is written as a replace of its object (or its create),
//! and the objects the list leaves out are deleted. A write without the field leaves them
//! alone. This module reads the field out of a body ([`take`]) and shows the stored children
//! in their parent ([`shown`]); the store writes them ([`crate::storage::steps`]).

use serde_json::{Map, Value};

use super::catalog::{catalog, Embedded, TypeId};
use super::child::{child_id, child_path, within};
use super::document::Document;
pub use super::document::Listed;
use super::path::ObjectPath;
use super::{FieldError, PolicyObject};

/// Takes the embedded lists out of the members of a body for the object at `parent`, each
/// item read by `document_of` as a body for its own path (as its kind reads one). An item needs an
/// `id` (a string, or an integer's text), and no two items of one list the same; a refusal
/// names the item by its place (`rules[2].id`).
pub fn take(
    members: &mut Map<String, Value>,
    parent: &ObjectPath,
    document_of: impl Fn(Map<String, Value>, &ObjectPath) -> Result<Document, FieldError>,
) -> Result<Vec<Listed>, FieldError> {
    let mut listed = Vec::new();
    for Embedded { field, route } in &catalog().route(parent.route()).embedded {
        let items = match members.remove(field) {
            None | Some(Value::Null) => continue,
            Some(Value::Array(items)) => items,
            Some(_) => return Err(FieldError::new(field.as_str(), "must be a list")),
        };
        let mut read: Vec<(ObjectPath, Document)> = Vec::with_capacity(items.len());
        for (index, item) in items.into_iter().enumerate() {
            let at = format!("{field}[{index}]");
            let Value::Object(item) = item else {
                return Err(FieldError::new(at, "must be an object"));
            };
            let id = child_id(item.get("id"), &format!("{at}.id"))?.into_owned();
            let path = child_path(*route, parent.as_str(), &id, &at)?;
            if let Some(first) = read.iter().position(|(given, _)| *given == path) {
                let repeated = format!("repeats the id of {field}[{first}], {id:?}");
                return Err(FieldError::new(format!("{at}.id"), repeated));
            }
            let document = document_of(item, &path).map_err(within(&at))?;
            read.push((path, document));
        }
        listed.push(Listed {
            route: *route,
            items: read,
        });
    }
    Ok(listed)
}

/// The children the embedded lists of a shipped object's `members` (at `parent`) make, taken
/// out of them: each item's path, its type (its `resource_type`, or the route's) and its
/// other members. What NSX ships is the store's own data, valid by its tests.
pub fn shipped(
    parent: &ObjectPath,
    members: &mut Map<String, Value>,
) -> Vec<(ObjectPath, TypeId, Map<String, Value>)> {
    let mut children = Vec::new();
    for Embedded { field, route } in &catalog().route(parent.route()).embedded {
        let Some(Value::Array(items)) = members.remove(field) else {
            continue;
        };
        for item in items {
            let Value::Object(mut item) = item else {
                panic!("a shipped {field} item is an object");
            };
            let id = item
                .remove("id")
                .and_then(|id| id.as_str().map(str::to_owned));
            let id = id.unwrap_or_else(|| panic!("a shipped {field} item has an id"));
            let path = ObjectPath::from_stored(&catalog().child_path(*route, parent.as_str(), &id))
                .expect("a shipped child's path is served");
            let resource_type = match item.remove("resource_type") {
                Some(Value::String(name)) => catalog().type_named(&name).expect("a catalog type"),
                _ => catalog().route(*route).object_type,
            };
            children.push((path, resource_type, item));
        }
    }
    children
}

/// The JSON of `parent` as NSX shows it: each of its embedded fields holds its stored
/// children of that route, found among `below` (what is stored below it, in any order),
/// ordered by `sequence_number` where they have one (rules are), then by path. (An object
/// of a route without embedded lists is shown as it is rendered: no need to ask.)
pub fn shown(parent: &PolicyObject, below: &[PolicyObject]) -> Value {
    let embedded = &catalog().route(parent.path.route()).embedded;
    let mut shown: Map<String, Value> =
        serde_json::from_str(parent.json()).expect("a stored object renders as a JSON object");
    for Embedded { field, route } in embedded {
        let mut children: Vec<&PolicyObject> = below
            .iter()
            .filter(|child| {
                child.path.route() == *route && child.path.parent() == Some(parent.path.as_str())
            })
            .collect();
        children.sort_by_key(|child| (sequence_number(child), child.path.as_str()));
        let items = children
            .into_iter()
            .map(|child| serde_json::from_str(child.json()).expect("a stored object is JSON"))
            .collect();
        shown.insert(field.clone(), Value::Array(items));
    }
    Value::Object(shown)
}

/// Where a child comes in its parent's list: its `sequence_number`; last without one.
fn sequence_number(child: &PolicyObject) -> i64 {
    child
        .config
        .members()
        .get("sequence_number")
        .and_then(Value::as_i64)
        .unwrap_or(i64::MAX)
}
