//! The catalog of Policy object types: which paths hold objects, of which type, answering
//! which methods, and the fields of every type those objects carry.
//!
//! It is `catalog/policy.json`, written from VMware's Python SDK by
//! `tools/catalog/generate.py` (the README's "The catalog") and embedded in the binary. It is
//! parsed and indexed once, when first asked for; start-up asks for it, so a catalog that does
//! not parse stops the service before it listens.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::LazyLock;

mod embedded;
mod raw;
#[cfg(test)]
mod tests;

pub use embedded::Embedded;
use raw::{wire_names, RawCatalog};

use super::nsx_model::model;

/// The generated file, as committed.
const EMBEDDED: &str = include_str!("../../../catalog/policy.json");

/// The catalog the binary was built with.
pub fn catalog() -> &'static Catalog {
    static CATALOG: LazyLock<Catalog> = LazyLock::new(|| {
        let mut catalog = Catalog::parse(EMBEDDED).expect("the embedded catalog is consistent");
        catalog.accept(&model().accepted);
        catalog
    });
    &CATALOG
}

/// The field that names a value's subtype where the bindings name no other.
const DISCRIMINATOR: &str = "resource_type";

/// The type of the `Infra` roots, which hold a tree's objects without being one.
const CONTAINER_TYPE: &str = "Infra";

/// A type of the catalog, by its index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TypeId(u32);

/// An object route of the catalog, by its index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RouteId(u32);

/// Every object route and every type, indexed.
#[derive(Debug)]
pub struct Catalog {
    /// The SDK the catalog was generated from (`vcf-nsx==9.1.1.0`).
    pub sdk: String,
    routes: Vec<ObjectRoute>,
    types: Vec<TypeDef>,
    by_name: HashMap<String, TypeId>,
    tree: Node,
    /// The Hierarchical API's wrappers by name (`ChildGroup`).
    wrappers: HashMap<String, ChildWrapper>,
    /// The wrapper of each wrapped type, and of each subtype of one.
    wrapper_of: HashMap<TypeId, String>,
    /// Where an object of a type lives below an object of a route (`None`: at a root).
    child_routes: HashMap<(Option<RouteId>, TypeId), RouteId>,
    /// The (parent, type) pairs that more than one route takes.
    shared_types: HashSet<(Option<RouteId>, TypeId)>,
}

/// A wrapper of the Hierarchical API: `{"resource_type": "ChildGroup", "Group": {...}}`
/// carries an object of `object_type` under `key`.
#[derive(Debug, Clone)]
pub struct ChildWrapper {
    pub name: String,
    pub key: String,
    pub object_type: TypeId,
}

/// A struct type: its fields by name, and the types a value declared as it may be instead,
/// chosen by the value's discriminator.
#[derive(Debug)]
pub struct TypeDef {
    pub name: String,
    pub fields: BTreeMap<String, Field>,
    pub subtypes: Vec<TypeId>,
    /// The field whose value names a value's subtype: `resource_type`, or `type` where the
    /// bindings name it so (an LB rule's actions and conditions).
    pub discriminator: String,
}

/// One field of a struct type, with the constraints the SDK's bindings state for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub ty: FieldType,
    pub required: bool,
    pub read_only: bool,
    pub values: Option<Vec<String>>,
    pub minimum: Option<i64>,
    pub maximum: Option<i64>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
}

/// What a field holds.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldType {
    String,
    Integer,
    Number,
    Boolean,
    /// Any JSON value (the SDK's maps and opaque values).
    Any,
    /// An object of this type, or of one of its subtypes by `resource_type`.
    Struct(TypeId),
    /// An object that names its own type by `resource_type`: the base or one of its subtypes.
    Polymorphic(TypeId),
    List(Box<FieldType>),
}

/// Where objects of one type live: a URL template below `/policy/api/v1`, such as
/// `/infra/segments/{segmentId}`.
#[derive(Debug)]
pub struct ObjectRoute {
    pub template: String,
    segments: Vec<Segment>,
    pub object_type: TypeId,
    pub methods: Methods,
    /// The list answer's type, where the collection can be listed.
    pub list: Option<TypeId>,
    /// The list's query parameters beyond the ones every list takes.
    pub list_query: Vec<String>,
    /// Whether a PATCH answers the object, as the bindings declare for some types (a
    /// transport zone's, a CA bundle's); other PATCHes answer an empty body.
    pub patch_answers: bool,
    /// The nearest route above this one: its objects are this one's parents.
    pub parent: Option<RouteId>,
    /// Whether some route has this one as its parent: only then can its objects have
    /// children.
    pub has_children: bool,
    /// The list fields of this route's type whose items are objects of a route right
    /// below it (a security policy's `rules`): see [`Embedded`].
    pub embedded: Vec<Embedded>,
    /// Whether an object of this route goes with its parent: a delete of the parent takes
    /// it along. Configuration (clients write it but cannot delete it: a segment's
    /// `security-config`) and the objects of a parent's [`Embedded`] list do.
    pub goes_with_parent: bool,
    /// Whether some route right below this one [goes with its parent](Self::goes_with_parent):
    /// only then does a delete of an object of this route take children along.
    pub takes_children: bool,
    /// Whether the route is an `Infra` root (`/infra`, a project's `/infra`): a container
    /// that exists wherever its own parent does, never stored by itself.
    pub container: bool,
}

/// The methods the SDK has for an object route.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Methods {
    pub get: bool,
    pub put: bool,
    pub patch: bool,
    pub delete: bool,
}

impl Methods {
    /// Whether the route's objects are configuration: clients write them but cannot delete
    /// them (a segment's `security-config`), and they go with their parent.
    pub fn configuration(self) -> bool {
        !self.delete && (self.put || self.patch)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Variable,
}

/// The route tree: a path's segments walked from the root, literals before variables.
#[derive(Debug, Default)]
struct Node {
    literals: HashMap<String, Node>,
    variable: Option<Box<Node>>,
    route: Option<RouteId>,
}

/// A concrete path of the catalog: the route it matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Located {
    pub route: RouteId,
}

impl Catalog {
    /// Adds the values NSX takes for a field beyond the bindings' enum
    /// (`nsx_model.toml`'s `accepted`, by type and field) to the field's values.
    fn accept(&mut self, accepted: &BTreeMap<String, BTreeMap<String, Vec<String>>>) {
        for (type_name, fields) in accepted {
            let id = self.by_name[type_name.as_str()];
            let type_def = &mut self.types[id.0 as usize];
            for (field, values) in fields {
                let field = type_def
                    .fields
                    .get_mut(field)
                    .expect("an accepted field exists");
                field
                    .values
                    .get_or_insert_with(Vec::new)
                    .extend(values.iter().cloned());
            }
        }
    }

    /// Parses and indexes a catalog; a type named anywhere but not defined is an error.
    pub fn parse(text: &str) -> Result<Self, String> {
        let raw: RawCatalog = serde_json::from_str(text).map_err(|err| err.to_string())?;
        let names: Vec<&String> = raw.types.keys().collect();
        let mut by_name: HashMap<String, TypeId> = names
            .iter()
            .enumerate()
            .map(|(index, name)| ((*name).clone(), TypeId(index as u32)))
            .collect();
        let wire_names = wire_names(&raw.children);
        // NSX's spelling names the type too; the SDK's class name stays an alias of it.
        for (class, wire) in &wire_names {
            let id = by_name[*class];
            by_name.insert((*wire).to_owned(), id);
        }
        let lookup = |name: &str| {
            by_name
                .get(name)
                .copied()
                .ok_or_else(|| format!("the catalog names the undefined type {name:?}"))
        };
        let mut types = Vec::with_capacity(raw.types.len());
        for (name, raw_type) in &raw.types {
            let mut fields = BTreeMap::new();
            for (field, spec) in &raw_type.fields {
                fields.insert(field.clone(), spec.resolve(&lookup)?);
            }
            let subtypes = raw_type
                .subtypes
                .iter()
                .map(|name| lookup(name))
                .collect::<Result<_, _>>()?;
            types.push(TypeDef {
                name: wire_names
                    .get(name.as_str())
                    .map_or_else(|| name.clone(), |wire| (*wire).to_owned()),
                fields,
                subtypes,
                discriminator: raw_type
                    .discriminator
                    .clone()
                    .unwrap_or_else(|| DISCRIMINATOR.to_owned()),
            });
        }
        let mut routes: Vec<ObjectRoute> = Vec::with_capacity(raw.objects.len());
        for object in &raw.objects {
            routes.push(ObjectRoute {
                segments: template_segments(&object.path),
                template: object.path.clone(),
                object_type: lookup(&object.object_type)?,
                methods: Methods {
                    get: object.methods.iter().any(|m| m == "GET"),
                    put: object.methods.iter().any(|m| m == "PUT"),
                    patch: object.methods.iter().any(|m| m == "PATCH"),
                    delete: object.methods.iter().any(|m| m == "DELETE"),
                },
                list: object.list.as_deref().map(lookup).transpose()?,
                list_query: object.list_query.clone(),
                patch_answers: object.patch_answers,
                parent: None,
                has_children: false,
                embedded: Vec::new(),
                goes_with_parent: false,
                takes_children: false,
                container: object.object_type == CONTAINER_TYPE,
            });
        }
        let mut tree = Node::default();
        for (index, route) in routes.iter().enumerate() {
            let mut node = &mut tree;
            for segment in &route.segments {
                node = match segment {
                    Segment::Literal(text) => node.literals.entry(text.clone()).or_default(),
                    Segment::Variable => node.variable.get_or_insert_with(Default::default),
                };
            }
            node.route = Some(RouteId(index as u32));
        }
        let parents: Vec<Option<RouteId>> = routes
            .iter()
            .map(|route| {
                (1..route.segments.len())
                    .rev()
                    .find_map(|len| tree.exact(&route.segments[..len]))
            })
            .collect();
        for (route, parent) in routes.iter_mut().zip(&parents) {
            route.parent = *parent;
        }
        for (parent, embedded) in embedded::lists(&routes, &types) {
            routes[embedded.route.0 as usize].goes_with_parent = true;
            routes[parent.0 as usize].embedded.push(embedded);
        }
        for (child, parent) in parents.into_iter().enumerate() {
            let Some(parent) = parent else { continue };
            let child = &mut routes[child];
            child.goes_with_parent |= child.methods.configuration();
            let goes_with_parent = child.goes_with_parent;
            let parent = &mut routes[parent.0 as usize];
            parent.has_children = true;
            parent.takes_children |= goes_with_parent;
        }
        // Where a type lives below a route: its own route, or the route of a base it is a
        // subtype of; where two routes take one type, the shorter (`/infra/segments/{}`
        // rather than a longer special collection).
        let mut by_depth: Vec<usize> = (0..routes.len()).collect();
        by_depth.sort_by_key(|index| routes[*index].segments.len());
        let mut child_routes = HashMap::new();
        let mut shared_types = HashSet::new();
        for index in by_depth {
            let route = &routes[index];
            let own = std::iter::once(route.object_type);
            let subtypes = types[route.object_type.0 as usize].subtypes.iter().copied();
            for object_type in own.chain(subtypes) {
                let key = (route.parent, object_type);
                match child_routes.entry(key) {
                    std::collections::hash_map::Entry::Occupied(_) => {
                        shared_types.insert(key);
                    }
                    std::collections::hash_map::Entry::Vacant(vacant) => {
                        vacant.insert(RouteId(index as u32));
                    }
                }
            }
        }
        let (wrappers, wrapper_of) = index_wrappers(&raw.children, &types, &wire_names, &lookup)?;
        Ok(Self {
            sdk: raw.sdk,
            routes,
            types,
            by_name,
            tree,
            wrappers,
            wrapper_of,
            child_routes,
            shared_types,
        })
    }

    /// The types the objects of `route` may be (its type and its subtypes), when no other
    /// route under the same parent takes any of them (`/infra/ip-pools` and
    /// `/infra/manager-ip-pools` both hold `IpAddressPool`s): a type then tells which route
    /// an object hanging from a parent belongs to. `None` where it does not.
    pub fn counted_types(&self, route: RouteId) -> Option<Vec<&str>> {
        let object_type = self.route(route).object_type;
        let types: Vec<TypeId> = std::iter::once(object_type)
            .chain(self.type_def(object_type).subtypes.iter().copied())
            .collect();
        let parent = self.route(route).parent;
        let shared = types
            .iter()
            .any(|ty| self.shared_types.contains(&(parent, *ty)));
        (!shared).then(|| {
            types
                .iter()
                .map(|ty| self.type_def(*ty).name.as_str())
                .collect()
        })
    }

    /// The types of what goes with an object of `route` when it is deleted: of each route
    /// right below it that [goes with its parent](ObjectRoute::goes_with_parent), its type
    /// and subtypes.
    pub fn types_going_with(&self, route: RouteId) -> Vec<&str> {
        let mut types: Vec<&str> = self
            .routes()
            .filter(|(_, child)| child.parent == Some(route) && child.goes_with_parent)
            .flat_map(|(_, child)| {
                let object_type = child.object_type;
                std::iter::once(object_type).chain(self.type_def(object_type).subtypes.clone())
            })
            .map(|ty| self.type_def(ty).name.as_str())
            .collect();
        types.sort_unstable();
        types.dedup();
        types
    }

    /// The Hierarchical API's wrapper named `name` (`ChildGroup`).
    pub fn wrapper(&self, name: &str) -> Option<&ChildWrapper> {
        self.wrappers.get(name)
    }

    /// The wrapper an object of `object_type` is carried in (a subtype's: its base's).
    pub fn wrapper_of(&self, object_type: TypeId) -> Option<&ChildWrapper> {
        self.wrappers.get(self.wrapper_of.get(&object_type)?)
    }

    /// The route of an object of `object_type` whose parent is an object of `parent` (`None`:
    /// an object at a root, an org).
    pub fn child_route(&self, parent: Option<RouteId>, object_type: TypeId) -> Option<RouteId> {
        self.child_routes.get(&(parent, object_type)).copied()
    }

    /// The path of the object of `route` below `parent`, a path of the route's parent (`""`
    /// for a route at a root): the parent's path, the route's literal segments below it, and
    /// `id` where the route takes an id (a singleton's route takes none).
    pub fn child_path(&self, route: RouteId, parent: &str, id: &str) -> String {
        let depth = parent.matches('/').count();
        let mut path = parent.to_owned();
        for segment in &self.route(route).segments[depth..] {
            path.push('/');
            match segment {
                Segment::Literal(text) => path.push_str(text),
                Segment::Variable => path.push_str(id),
            }
        }
        path
    }

    /// The route a concrete path (its percent-decoded segments below `/policy/api/v1`)
    /// belongs to, if any: a literal segment wins over a variable, as NSX's own routes do.
    pub fn locate<S: AsRef<str>>(&self, segments: &[S]) -> Option<Located> {
        self.tree.find(segments).map(|route| Located { route })
    }

    /// The route whose objects a collection path (an object route's path without its last
    /// `/{id}`, such as `/infra/segments`) lists, if it can be listed.
    pub fn locate_collection<S: AsRef<str>>(&self, segments: &[S]) -> Option<RouteId> {
        self.tree
            .find_by(segments, &|node| node.variable.as_ref()?.route)
            .filter(|route| self.route(*route).list.is_some())
    }

    pub fn route(&self, id: RouteId) -> &ObjectRoute {
        &self.routes[id.0 as usize]
    }

    pub fn routes(&self) -> impl Iterator<Item = (RouteId, &ObjectRoute)> {
        self.routes
            .iter()
            .enumerate()
            .map(|(index, route)| (RouteId(index as u32), route))
    }

    pub fn type_def(&self, id: TypeId) -> &TypeDef {
        &self.types[id.0 as usize]
    }

    pub fn type_named(&self, name: &str) -> Option<TypeId> {
        self.by_name.get(name).copied()
    }

    /// How many of a route's leading segments its parent's path has: the parent of
    /// `/infra/domains/d1/groups/g1` is `/infra/domains/d1`, of `/infra/antrea/traceflows/t`
    /// is `/infra`. `None` for a root (`/infra`, `/orgs/{orgId}`).
    pub fn parent_depth(&self, route: RouteId) -> Option<usize> {
        self.route(route)
            .parent
            .map(|parent| self.route(parent).segments.len())
    }
}

impl ObjectRoute {
    /// Whether the route's last segment is an id (`/infra/segments/{segmentId}`) rather than
    /// a fixed name (`/infra/tier-1s/{tier1Id}/dns-forwarder`).
    pub fn is_collection_member(&self) -> bool {
        self.segments.last() == Some(&Segment::Variable)
    }

    /// How many segments a path of this route has.
    pub fn depth(&self) -> usize {
        self.segments.len()
    }
}

impl Node {
    fn find<S: AsRef<str>>(&self, segments: &[S]) -> Option<RouteId> {
        self.find_by(segments, &|node| node.route)
    }

    /// Walks `segments` from this node, literals before variables, and answers what `found`
    /// says of the first node they end at that it says something of.
    fn find_by<S: AsRef<str>>(
        &self,
        segments: &[S],
        found: &impl Fn(&Node) -> Option<RouteId>,
    ) -> Option<RouteId> {
        let Some((first, rest)) = segments.split_first() else {
            return found(self);
        };
        self.literals
            .get(first.as_ref())
            .and_then(|node| node.find_by(rest, found))
            .or_else(|| {
                self.variable
                    .as_ref()
                    .and_then(|node| node.find_by(rest, found))
            })
    }

    /// The route with exactly these template segments, if there is one.
    fn exact(&self, segments: &[Segment]) -> Option<RouteId> {
        let Some((first, rest)) = segments.split_first() else {
            return self.route;
        };
        match first {
            Segment::Literal(text) => self.literals.get(text)?.exact(rest),
            Segment::Variable => self.variable.as_ref()?.exact(rest),
        }
    }
}

/// The wrappers by name, and the name of each wrapped type's wrapper.
type WrapperIndex = (HashMap<String, ChildWrapper>, HashMap<TypeId, String>);

/// The Hierarchical API's wrappers by name, and the wrapper of each wrapped type and each
/// subtype of one ([`Catalog::wrapper`], [`Catalog::wrapper_of`]).
fn index_wrappers(
    children: &BTreeMap<String, raw::RawChild>,
    types: &[TypeDef],
    wire_names: &HashMap<&str, &str>,
    lookup: &impl Fn(&str) -> Result<TypeId, String>,
) -> Result<WrapperIndex, String> {
    let mut wrappers = HashMap::new();
    let mut wrapper_of = HashMap::new();
    for (class_name, raw) in children {
        let object_type = lookup(&raw.object_type)?;
        // A wrapper of a type NSX spells otherwise is named after NSX's spelling
        // (`ChildQoSProfile`), and found by the SDK's class name too.
        let name = match wire_names.contains_key(raw.object_type.as_str()) {
            true => format!("Child{}", raw.key),
            false => class_name.clone(),
        };
        let own = std::iter::once(object_type);
        let subtypes = types[object_type.0 as usize].subtypes.iter().copied();
        for wrapped in own.chain(subtypes) {
            wrapper_of.entry(wrapped).or_insert_with(|| name.clone());
        }
        let wrapper = ChildWrapper {
            name: name.clone(),
            key: raw.key.clone(),
            object_type,
        };
        if name != *class_name {
            wrappers.insert(class_name.clone(), wrapper.clone());
        }
        wrappers.insert(name, wrapper);
    }
    Ok((wrappers, wrapper_of))
}

fn template_segments(template: &str) -> Vec<Segment> {
    template
        .split('/')
        .filter(|segment| !segment.is_empty())
        .map(|segment| {
            if segment.starts_with('{') && segment.ends_with('}') {
                Segment::Variable
            } else {
                Segment::Literal(segment.to_owned())
            }
        })
        .collect()
}
