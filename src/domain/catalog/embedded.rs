//! Embedded lists: where the bindings give a type a list field whose items are objects of a
//! route right below that type's route (a security policy's `rules`, a service's
//! `service_entries`), NSX keeps each item as an object of its own and shows them in the
//! parent's field (the README's "Embedded children"). Found here from the catalog alone.

use super::{FieldType, ObjectRoute, RouteId, TypeDef, TypeId};

/// A list field of a route's type whose items are the objects of `route`, a route right
/// below it: `rules` of `/infra/domains/{}/security-policies/{}`, whose items are the
/// objects of `…/rules/{ruleId}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Embedded {
    pub field: String,
    pub route: RouteId,
}

/// Every embedded list of the catalog, with the route whose type has it. A field is one where
/// its items' type is the type of exactly one collection right below the route (its own type,
/// a base of it, or one of its subtypes: a service's entries are `ServiceEntry`s of every
/// kind); a field whose items could belong to several routes (a group's `expression`, whose
/// items are conditions as much as path or IP expressions) is none. The `Infra` roots are
/// trees, not objects, and have none.
pub(super) fn lists(routes: &[ObjectRoute], types: &[TypeDef]) -> Vec<(RouteId, Embedded)> {
    let mut lists = Vec::new();
    for (index, parent) in routes.iter().enumerate() {
        if parent.container {
            continue;
        }
        let parent_id = RouteId(index as u32);
        let below: Vec<(RouteId, TypeId)> = routes
            .iter()
            .enumerate()
            .filter(|(_, route)| route.parent == Some(parent_id) && route.is_collection_member())
            .map(|(index, route)| (RouteId(index as u32), route.object_type))
            .collect();
        if below.is_empty() {
            continue;
        }
        for (field, spec) in &types[parent.object_type.0 as usize].fields {
            let Some(items) = list_items(&spec.ty) else {
                continue;
            };
            let mut matching = below
                .iter()
                .filter(|(_, child)| related(types, items, *child));
            if let (Some((route, _)), None) = (matching.next(), matching.next()) {
                let embedded = Embedded {
                    field: field.clone(),
                    route: *route,
                };
                lists.push((parent_id, embedded));
            }
        }
    }
    lists
}

/// The type of a list field's items, where they are objects.
fn list_items(ty: &FieldType) -> Option<TypeId> {
    match ty {
        FieldType::List(items) => match **items {
            FieldType::Struct(id) | FieldType::Polymorphic(id) => Some(id),
            _ => None,
        },
        _ => None,
    }
}

/// Whether one of the two types is the other or one of its subtypes.
fn related(types: &[TypeDef], a: TypeId, b: TypeId) -> bool {
    let is_within =
        |base: TypeId, ty: TypeId| base == ty || types[base.0 as usize].subtypes.contains(&ty);
    is_within(a, b) || is_within(b, a)
}
