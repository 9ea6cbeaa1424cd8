//! The Hierarchical API (the README's "Hierarchical API"): one body that writes a tree of
//! objects below a root (`PATCH /policy/api/v1/infra`, a project's `/infra`, `/org-root`),
//! and the tree a `GET` of a root answers.
//!
//! A body's `children` are the SDK's `Child*` wrappers, each carrying one object under the
//! key the catalog names (`{"resource_type": "ChildGroup", "Group": {...}}`), or a
//! `ChildResourceReference` that only leads to its own children. [`parse`] turns the whole
//! body into the [`TreeWrite`]s a store applies in order, in one transaction, or into the
//! first [`FieldError`], named by its dotted path (`children[0].Domain.children[1].Group.id`).

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::{Map, Value};

use super::catalog::{catalog, RouteId};
use super::child::{child_id, child_path, dotted, within};
use super::kind::Kinds;
use super::path::ObjectPath;
use super::schema::check_object;
use super::{json_object, BodyError, Document, FieldError, PolicyObject};

/// Where a hierarchical request starts: `/infra`, a project's `/infra` (an `Infra`
/// container route), or the org root, above the orgs, which is no route at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Root {
    /// The root's path: `/infra`, `/orgs/o/projects/p/infra`, or `""` for the org root.
    path: String,
    /// Its route; `None` for the org root.
    route: Option<RouteId>,
}

/// The `resource_type` of the org root's body.
const ORG_ROOT: &str = "OrgRoot";

/// The wrapper that carries no object: it leads to an object by its type and id.
const REFERENCE: &str = "ChildResourceReference";

impl Root {
    /// The org root (`/policy/api/v1/org-root`).
    pub fn org_root() -> Self {
        Root {
            path: String::new(),
            route: None,
        }
    }

    /// The root at `path`, if its route is an `Infra` container.
    pub fn container(path: &ObjectPath) -> Option<Self> {
        catalog().route(path.route()).container.then(|| Root {
            path: path.as_str().to_owned(),
            route: Some(path.route()),
        })
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// The `resource_type` a body of this root has.
    fn resource_type(&self) -> &'static str {
        match self.route {
            Some(_) => "Infra",
            None => ORG_ROOT,
        }
    }
}

/// One write of a hierarchical request, in the order the store applies them.
#[derive(Debug, Clone, PartialEq)]
pub enum TreeWrite {
    /// Creates the object, or merges the body into it: a PATCH's rules, `_revision` checked
    /// only where the request asks for it (`enforce_revision_check`).
    Patch {
        path: ObjectPath,
        document: Document,
    },
    /// A child `marked_for_delete`: the object and everything stored below it are deleted,
    /// deepest first.
    DeleteTree(ObjectPath),
}

/// Parses a hierarchical request body below `root`. With `enforce_revision_check`, an
/// object's `_revision` is checked as a PATCH's is; without, it is ignored.
pub fn parse(
    body: &[u8],
    root: &Root,
    enforce_revision_check: bool,
    kinds: &dyn Kinds,
) -> Result<Vec<TreeWrite>, BodyError> {
    let mut members = json_object(body)?;
    let children = take_children(&mut members, "")?;
    match members.get("resource_type") {
        None | Some(Value::Null) => {}
        Some(Value::String(given)) if given == root.resource_type() => {}
        Some(_) => {
            return Err(FieldError::new(
                "resource_type",
                format!("must be {:?}", root.resource_type()),
            )
            .into())
        }
    }
    // The root's own fields are checked as its type's, but not stored: it is no object.
    if let Some(route) = root.route {
        let catalog = catalog();
        check_object(
            catalog,
            catalog.route(route).object_type,
            members,
            "",
            false,
        )?;
    }
    let mut parser = Parser {
        writes: Vec::new(),
        enforce_revision_check,
        kinds,
    };
    let root_parent = Parent {
        path: &root.path,
        route: root.route,
    };
    parser.children(children, root_parent, "children")?;
    Ok(parser.writes)
}

/// The object whose `children` are being read: its path, and its route (none for the
/// root of all, whose children are orgs).
#[derive(Clone, Copy)]
struct Parent<'p> {
    path: &'p str,
    route: Option<RouteId>,
}

impl<'p> Parent<'p> {
    /// The object at `path`, of route `route`.
    fn at(path: &'p ObjectPath, route: RouteId) -> Self {
        Parent {
            path: path.as_str(),
            route: Some(route),
        }
    }
}

struct Parser<'k> {
    writes: Vec<TreeWrite>,
    enforce_revision_check: bool,
    kinds: &'k dyn Kinds,
}

impl Parser<'_> {
    /// The wrappers of `items`, children of `parent`.
    fn children(&mut self, items: Vec<Value>, parent: Parent, at: &str) -> Result<(), FieldError> {
        for (index, item) in items.into_iter().enumerate() {
            let at = format!("{at}[{index}]");
            let Value::Object(wrapper) = item else {
                return Err(FieldError::new(at, "must be an object"));
            };
            self.child(wrapper, parent, &at)?;
        }
        Ok(())
    }

    /// One wrapper below `parent`: the object it carries is written (or, marked for
    /// delete, deleted with what is below it), then its children are read; a
    /// `ChildResourceReference` leads to an object it does not write.
    fn child(
        &mut self,
        mut wrapper: Map<String, Value>,
        parent: Parent,
        at: &str,
    ) -> Result<(), FieldError> {
        let catalog = catalog();
        let name = text(wrapper.get("resource_type"), &dotted(at, "resource_type"))?.to_owned();
        wrapper.remove("resource_type");
        if name == REFERENCE {
            let (path, route, children) = referenced(wrapper, parent, at)?;
            let parent = Parent::at(&path, route);
            return self.children(children, parent, &format!("{at}.children"));
        }
        let Some(found) = catalog.wrapper(&name) else {
            return Err(FieldError::new(
                format!("{at}.resource_type"),
                format!("{name:?} is not a child type of the Hierarchical API"),
            ));
        };
        let key = found.key.as_str();
        let object = match wrapper.remove(key) {
            Some(Value::Object(object)) => object,
            None | Some(Value::Null) => {
                return Err(FieldError::new(
                    format!("{at}.{key}"),
                    "required property not present",
                ))
            }
            Some(_) => return Err(FieldError::new(format!("{at}.{key}"), "must be an object")),
        };
        let marked_for_delete = flag(&mut wrapper, "marked_for_delete", at)?;
        check_wrapper(wrapper, &name, at)?;
        let at = format!("{at}.{key}");
        let Some(route) = catalog.child_route(parent.route, found.object_type) else {
            return Err(FieldError::new(
                format!("{at}.resource_type"),
                format!("{name} cannot be a child of {}", describe(parent.path)),
            ));
        };
        let id = match catalog.route(route).is_collection_member() {
            true => child_id(object.get("id"), &dotted(&at, "id"))?,
            false => Cow::Borrowed(""),
        };
        let path = child_path(route, parent.path, &id, &at)?;
        if marked_for_delete || object.get("marked_for_delete") == Some(&Value::Bool(true)) {
            self.writes.push(TreeWrite::DeleteTree(path));
            return Ok(());
        }
        let mut object = object;
        let children = take_children(&mut object, &at)?;
        // A route the single API only reads (a project's domains) is written here: the
        // SDK's wrapper for it is how NSX takes it.
        if !catalog.route(route).container {
            if !self.enforce_revision_check {
                object.remove("_revision");
            }
            let document = self.kinds.document(object, &path).map_err(within(&at))?;
            self.writes.push(TreeWrite::Patch {
                path: path.clone(),
                document,
            });
        }
        self.children(
            children,
            Parent::at(&path, route),
            &format!("{at}.children"),
        )
    }
}

/// Where a `ChildResourceReference` below `parent` leads (the path and route of the object
/// it names), and its children.
fn referenced(
    mut wrapper: Map<String, Value>,
    parent: Parent,
    at: &str,
) -> Result<(ObjectPath, RouteId, Vec<Value>), FieldError> {
    let catalog = catalog();
    let mut take = |field: &str| {
        let value = text(wrapper.get(field), &dotted(at, field)).map(str::to_owned);
        wrapper.remove(field);
        value
    };
    let target_type = take("target_type")?;
    let id = take("id")?;
    let children = take_children(&mut wrapper, at)?;
    flag(&mut wrapper, "marked_for_delete", at)?;
    check_wrapper(wrapper, REFERENCE, at)?;
    let route = catalog
        .type_named(&target_type)
        .and_then(|object_type| catalog.child_route(parent.route, object_type))
        .ok_or_else(|| {
            FieldError::new(
                format!("{at}.target_type"),
                format!(
                    "no {target_type} can be a child of {}",
                    describe(parent.path)
                ),
            )
        })?;
    let path = child_path(route, parent.path, &id, at)?;
    Ok((path, route, children))
}

/// A member that must be a string; `field` is its dotted path, for the error.
fn text<'a>(value: Option<&'a Value>, field: &str) -> Result<&'a str, FieldError> {
    match value {
        Some(Value::String(text)) => Ok(text),
        None | Some(Value::Null) => Err(FieldError::new(field, "required property not present")),
        Some(_) => Err(FieldError::new(field, "must be a string")),
    }
}

/// The `children` of an object or a wrapper, taken out of it: a list, or nothing.
fn take_children(members: &mut Map<String, Value>, at: &str) -> Result<Vec<Value>, FieldError> {
    match members.remove("children") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(FieldError::new(dotted(at, "children"), "must be a list")),
    }
}

/// A boolean member of a wrapper, taken out of it; `false` when absent.
fn flag(wrapper: &mut Map<String, Value>, field: &str, at: &str) -> Result<bool, FieldError> {
    match wrapper.remove(field) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(flag)) => Ok(flag),
        Some(_) => Err(FieldError::new(dotted(at, field), "must be a boolean")),
    }
}

/// What is left of a wrapper must be fields every wrapper has (`ChildPolicyConfigResource`'s:
/// `mark_for_override`, `request_parameter`, `display_name`, ...), checked as that type's;
/// nothing of it is stored.
fn check_wrapper(wrapper: Map<String, Value>, name: &str, at: &str) -> Result<(), FieldError> {
    let catalog = catalog();
    let base = catalog
        .type_named("ChildPolicyConfigResource")
        .expect("the catalog has the wrappers' base type");
    check_object(catalog, base, wrapper, at, false)
        .map(|_| ())
        .map_err(|error| match error.message.starts_with("unknown field") {
            true => FieldError::new(
                error.field,
                format!("unknown field: {name} has no such property"),
            ),
            false => error,
        })
}

fn describe(parent: &str) -> String {
    if parent.is_empty() {
        "the org root".to_owned()
    } else {
        parent.to_owned()
    }
}

/// Where the objects of one type below a parent are read: a collection's list path
/// (`/infra/domains/d/groups`), or a singleton's own path (`/infra/tier-1s/t/dns-forwarder`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChildPlace {
    Collection(String),
    Singleton(String),
}

/// Where objects of `resource_type` whose `parent_path` is `parent` are: `None` where the
/// catalog has no route for them there (which a stored object always has).
pub fn child_place(parent: &str, resource_type: &str) -> Option<ChildPlace> {
    let catalog = catalog();
    let parent_route = match parent {
        "" => None,
        parent => Some(ObjectPath::from_stored(parent).ok()?.route()),
    };
    let route = catalog.child_route(parent_route, catalog.type_named(resource_type)?)?;
    let path = catalog.child_path(route, parent, "");
    Some(match catalog.route(route).is_collection_member() {
        true => ChildPlace::Collection(path.trim_end_matches('/').to_owned()),
        false => ChildPlace::Singleton(path),
    })
}

/// What a `GET` of a root answers: which objects of its tree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TreeQuery {
    /// Only the subtree of this path (and the objects above it, to reach it).
    pub base_path: Option<String>,
    /// Only objects of these types (and the objects above them, to reach them).
    pub types: Option<Vec<String>>,
}

impl TreeQuery {
    /// Reads `base_path`, `type_filter` (`Group;SecurityPolicy`) and `filter` (NSX's
    /// `Type-Domain|Group`, or `Type-.*` for every type).
    pub fn parse(root: &Root, pairs: &[(String, String)]) -> Result<Self, FieldError> {
        let mut query = TreeQuery::default();
        for (name, value) in pairs {
            match name.as_str() {
                "base_path" => {
                    let under_root =
                        value == &root.path || value.starts_with(&format!("{}/", root.path));
                    if !under_root || ObjectPath::from_stored(value).is_err() {
                        return Err(FieldError::new(
                            "base_path",
                            format!("must be a path below {}", root.path),
                        ));
                    }
                    query.base_path = Some(value.clone());
                }
                "type_filter" | "filter" => {
                    let names = match name.as_str() {
                        "filter" => value.strip_prefix("Type-").ok_or_else(|| {
                            FieldError::new(name.as_str(), "must be Type-<type>|<type>...")
                        })?,
                        _ => value.as_str(),
                    };
                    let names: Vec<String> = names
                        .split([',', '|', ';'])
                        .map(|name| name.trim().to_owned())
                        .filter(|name| !name.is_empty())
                        .collect();
                    // `Type-.*` (and its escaped forms): every type, as no filter.
                    if names
                        .iter()
                        .any(|name| matches!(name.as_str(), ".*" | ".\\*"))
                    {
                        continue;
                    }
                    if let Some(unknown) = names
                        .iter()
                        .find(|name| catalog().type_named(name).is_none())
                    {
                        return Err(FieldError::new(
                            name.as_str(),
                            format!(
                                "{unknown:?} is not a Policy type (the types, separated by \
                                 ';', ',' or '|', are all this store reads here)"
                            ),
                        ));
                    }
                    query.types.get_or_insert_with(Vec::new).extend(names);
                }
                _ => {}
            }
        }
        Ok(query)
    }
}

/// The tree of `root` with `objects` (every stored object of the root's subtree, in path
/// order), as NSX answers a `GET` of it: the root, then each object wrapped in its `Child*`
/// type with its own `children`. `query` keeps only the objects it asks for, with the
/// objects above them. Costs one pass per level of the tree.
pub fn render(root: &Root, objects: &[PolicyObject], query: &TreeQuery) -> Value {
    let catalog = catalog();
    let below = |path: &str, base: &str| path == base || path.starts_with(&format!("{base}/"));
    let nodes: Vec<&PolicyObject> = objects
        .iter()
        .filter(|object| {
            let path = object.path.as_str();
            let on_the_way = query
                .base_path
                .as_ref()
                .is_none_or(|base| below(path, base) || below(base, path));
            on_the_way && catalog.wrapper_of(object_type(object)).is_some()
        })
        .collect();
    let index: HashMap<&str, usize> = nodes
        .iter()
        .enumerate()
        .map(|(at, object)| (object.path.as_str(), at))
        .collect();
    // Each node's nearest node above it: its parent, or (below a project's `/infra`, which
    // is no object) the project.
    let parents: Vec<Option<usize>> = nodes
        .iter()
        .map(|object| {
            let mut path = object.path.as_str();
            while let Some(cut) = path.rfind('/') {
                path = &path[..cut];
                if let Some(at) = index.get(path) {
                    return Some(*at);
                }
            }
            None
        })
        .collect();
    let mut keep: Vec<bool> = nodes
        .iter()
        .map(|object| {
            let type_wanted = query
                .types
                .as_ref()
                .is_none_or(|types| types.iter().any(|name| name == object.resource_type()));
            let in_base = query
                .base_path
                .as_ref()
                .is_none_or(|base| below(object.path.as_str(), base));
            type_wanted && in_base
        })
        .collect();
    for at in 0..nodes.len() {
        let mut above = parents[at].filter(|_| keep[at]);
        while let Some(parent) = above.filter(|parent| !keep[*parent]) {
            keep[parent] = true;
            above = parents[parent];
        }
    }
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    let mut top_level = Vec::new();
    for at in (0..nodes.len()).filter(|at| keep[*at]) {
        match parents[at] {
            Some(parent) => children[parent].push(at),
            None => top_level.push(at),
        }
    }
    let mut top = Map::new();
    top.insert("resource_type".into(), Value::from(root.resource_type()));
    if !root.path.is_empty() {
        top.insert("id".into(), Value::from("infra"));
        top.insert("path".into(), Value::from(root.path.as_str()));
    }
    let tree = Tree { nodes, children };
    top.insert(
        "children".into(),
        Value::Array(top_level.iter().map(|at| tree.wrapped(*at)).collect()),
    );
    Value::Object(top)
}

struct Tree<'a> {
    nodes: Vec<&'a PolicyObject>,
    children: Vec<Vec<usize>>,
}

impl Tree<'_> {
    /// The node `at` in its wrapper, with its children.
    fn wrapped(&self, at: usize) -> Value {
        let object = self.nodes[at];
        let mut members: Map<String, Value> =
            serde_json::from_str(&object.to_json()).expect("an object renders as JSON");
        if !self.children[at].is_empty() {
            let children = self.children[at].iter().map(|child| self.wrapped(*child));
            members.insert("children".into(), Value::Array(children.collect()));
        }
        let wrapper = catalog()
            .wrapper_of(object_type(object))
            .expect("only wrapped types are rendered");
        let mut wrapped = Map::new();
        wrapped.insert("resource_type".into(), Value::from(wrapper.name.as_str()));
        wrapped.insert(wrapper.key.clone(), Value::Object(members));
        wrapped.insert("marked_for_delete".into(), Value::Bool(false));
        Value::Object(wrapped)
    }
}

fn object_type(object: &PolicyObject) -> super::catalog::TypeId {
    catalog()
        .type_named(object.resource_type())
        .expect("a stored object's type is in the catalog")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::kind::CatalogOnly;
    use serde_json::json;

    fn infra() -> Root {
        Root::container(&ObjectPath::from_stored("/infra").unwrap()).unwrap()
    }

    fn parse_at(root: &Root, body: Value) -> Result<Vec<TreeWrite>, String> {
        parse(body.to_string().as_bytes(), root, false, &CatalogOnly)
            .map_err(|error| error.to_string())
    }

    fn paths(writes: &[TreeWrite]) -> Vec<String> {
        writes
            .iter()
            .map(|write| match write {
                TreeWrite::Patch { path, .. } => format!("patch {path}"),
                TreeWrite::DeleteTree(path) => format!("delete {path}"),
            })
            .collect()
    }

    #[test]
    fn a_tree_becomes_its_writes_parents_first() {
        let body = json!({"resource_type": "Infra", "children": [
            {"resource_type": "ChildDomain", "Domain": {"id": "d1", "resource_type": "Domain",
             "children": [
                {"resource_type": "ChildGroup", "Group": {"id": "web", "_revision": 7}},
                {"resource_type": "ChildSecurityPolicy", "marked_for_delete": true,
                 "SecurityPolicy": {"id": "old"}}
             ]}},
            {"resource_type": "ChildResourceReference", "id": "default", "target_type": "Domain",
             "children": [{"resource_type": "ChildGroup", "Group": {"id": "db"}}]},
            {"resource_type": "ChildAntreaTraceflowConfig", "TraceflowConfig": {"id": "t1",
             "container_cluster_id": "c", "source_external_id": "s"}}
        ]});
        let writes = parse_at(&infra(), body).unwrap();
        assert_eq!(
            paths(&writes),
            [
                "patch /infra/domains/d1",
                "patch /infra/domains/d1/groups/web",
                "delete /infra/domains/d1/security-policies/old",
                "patch /infra/domains/default/groups/db",
                "patch /infra/antrea/traceflows/t1",
            ]
        );
        // Without enforce_revision_check, a `_revision` in the body is not checked.
        let TreeWrite::Patch { document, .. } = &writes[1] else {
            unreachable!()
        };
        assert_eq!(document.revision, None);
    }

    #[test]
    fn errors_name_the_field_from_the_top_of_the_body() {
        let root = infra();
        let cases = [
            (json!({"resource_type": "Segment"}), "resource_type: must be \"Infra\""),
            (
                json!({"children": [{"Group": {"id": "g"}}]}),
                "children[0].resource_type: required property not present",
            ),
            (
                json!({"children": [{"resource_type": "ChildNope"}]}),
                "children[0].resource_type: \"ChildNope\" is not a child type of the Hierarchical API",
            ),
            (
                json!({"children": [{"resource_type": "ChildDomain", "Domain": {"id": "d",
                    "children": [{"resource_type": "ChildGroup", "Group": {"id": "g",
                    "expression": [{"resource_type": "IPAddressExpression", "ip_adresses": []}]}}]}}]}),
                "children[0].Domain.children[0].Group.expression[0].ip_adresses: unknown field: \
                 IPAddressExpression has no such property",
            ),
            (
                json!({"children": [{"resource_type": "ChildGroup", "Group": {"id": "g"}}]}),
                "children[0].Group.resource_type: ChildGroup cannot be a child of /infra",
            ),
            (
                json!({"children": [{"resource_type": "ChildDomain", "Domain": {}}]}),
                "children[0].Domain.id: required property not present",
            ),
            (
                json!({"children": [{"resource_type": "ChildDomain", "Domain": {"id": "d"},
                    "extra": 1}]}),
                "children[0].extra: unknown field: ChildDomain has no such property",
            ),
            (
                json!({"children": [{"resource_type": "ChildResourceReference",
                    "target_type": "Group", "id": "g"}]}),
                "children[0].target_type: no Group can be a child of /infra",
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(parse_at(&root, body).unwrap_err(), expected);
        }
    }

    #[test]
    fn children_are_found_in_their_collections_or_at_their_own_path() {
        let collection = |path: &str| Some(ChildPlace::Collection(path.into()));
        assert_eq!(child_place("", "Org"), collection("/orgs"));
        assert_eq!(
            child_place("/infra", "AntreaTraceflowConfig"),
            collection("/infra/antrea/traceflows")
        );
        assert_eq!(
            child_place("/infra/domains/d", "Group"),
            collection("/infra/domains/d/groups")
        );
        assert_eq!(
            child_place("/orgs/default/projects/p/infra", "Segment"),
            collection("/orgs/default/projects/p/infra/segments")
        );
        assert_eq!(
            child_place("/infra/tier-1s/t", "PolicyDnsForwarder"),
            Some(ChildPlace::Singleton(
                "/infra/tier-1s/t/dns-forwarder".into()
            ))
        );
        assert_eq!(child_place("/infra/domains/d", "Segment"), None);
    }

    #[test]
    fn the_org_root_reaches_projects_vpcs_and_their_infra() {
        let body = json!({"resource_type": "OrgRoot", "children": [
            {"resource_type": "ChildResourceReference", "target_type": "Org", "id": "default",
             "children": [{"resource_type": "ChildProject", "Project": {"id": "p",
                "children": [
                    {"resource_type": "ChildVpc", "Vpc": {"id": "v"}},
                    {"resource_type": "ChildInfra", "Infra": {"children": [
                        {"resource_type": "ChildResourceReference", "target_type": "Domain",
                         "id": "default", "children": [
                            {"resource_type": "ChildGroup", "Group": {"id": "g"}}]}]}}
                ]}}]}
        ]});
        let writes = parse_at(&Root::org_root(), body).unwrap();
        assert_eq!(
            paths(&writes),
            [
                "patch /orgs/default/projects/p",
                "patch /orgs/default/projects/p/vpcs/v",
                "patch /orgs/default/projects/p/infra/domains/default/groups/g",
            ]
        );
    }
}
