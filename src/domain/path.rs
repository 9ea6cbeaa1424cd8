//! Where an object lives: its policy path (`/infra/segments/web`), the route of the catalog
//! it belongs to, its id and its parent's path.

use std::fmt;

use super::catalog::{catalog, RouteId};
use super::{FieldError, ObjectId};

/// The path of an object the catalog serves. Only [`ObjectPath::locate`] makes one, so every
/// id in it is valid and its route is known.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectPath {
    text: String,
    id: ObjectId,
    /// How long the parent's path is; `None` for a root (`/infra`, `/orgs/default`).
    parent_len: Option<usize>,
    route: RouteId,
}

impl ObjectPath {
    /// The object at these percent-decoded segments (below `/policy/api/v1`), if the catalog
    /// serves one there. A segment the route takes as an id must be a valid id.
    pub fn locate<S: AsRef<str>>(segments: &[S]) -> Result<Option<Self>, FieldError> {
        let catalog = catalog();
        let Some(found) = catalog.locate(segments) else {
            return Ok(None);
        };
        for segment in segments {
            ObjectId::parse(segment.as_ref())?;
        }
        let id = ObjectId::parse(segments.last().map_or("", |s| s.as_ref()))?;
        let text: String = segments
            .iter()
            .flat_map(|segment| ["/", segment.as_ref()])
            .collect();
        let parent_len = catalog.parent_depth(found.route).map(|depth| {
            segments[..depth]
                .iter()
                .map(|segment| segment.as_ref().len() + 1)
                .sum()
        });
        Ok(Some(Self {
            text,
            id,
            parent_len,
            route: found.route,
        }))
    }

    /// Reads back a path this service stored.
    pub fn from_stored(path: &str) -> Result<Self, FieldError> {
        let segments: Vec<&str> = path.split('/').skip(1).collect();
        Self::locate(&segments)?
            .ok_or_else(|| FieldError::new("path", format!("{path} is not a served path")))
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The last segment: the id, or a singleton's fixed name.
    pub fn id(&self) -> &ObjectId {
        &self.id
    }

    /// The parent's path; `None` for a root.
    pub fn parent(&self) -> Option<&str> {
        self.parent_len.map(|len| &self.text[..len])
    }

    pub fn route(&self) -> RouteId {
        self.route
    }

    /// The stored object a create of this path needs: its parent, or where the parent is an
    /// `Infra` container (`/infra`, a project's `/infra`), the container's own parent. `None`
    /// where the path hangs from a root (`/infra/segments/s`, `/orgs/default`).
    pub fn required_parent(&self) -> Option<&str> {
        let catalog = catalog();
        let mut route = catalog.route(self.route).parent?;
        while catalog.route(route).container {
            route = catalog.route(route).parent?;
        }
        Some(self.prefix(catalog.route(route).depth()))
    }

    /// Whether objects can be stored below this one: its route has child routes.
    pub fn may_have_children(&self) -> bool {
        catalog().route(self.route).has_children
    }

    /// The path of this path's first `depth` segments.
    fn prefix(&self, depth: usize) -> &str {
        let end = self
            .text
            .match_indices('/')
            .nth(depth)
            .map_or(self.text.len(), |(at, _)| at);
        &self.text[..end]
    }
}

impl fmt::Display for ObjectPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn located(path: &str) -> ObjectPath {
        ObjectPath::from_stored(path).unwrap()
    }

    #[test]
    fn a_path_knows_its_id_and_parent() {
        let group = located("/infra/domains/default/groups/web");
        assert_eq!(group.id().as_str(), "web");
        assert_eq!(group.parent(), Some("/infra/domains/default"));
        assert_eq!(located("/infra").parent(), None);
        assert_eq!(
            located("/orgs/default/projects/p/vpcs/v").parent(),
            Some("/orgs/default/projects/p")
        );
    }

    #[test]
    fn a_create_needs_the_nearest_stored_parent() {
        let parent = |path: &str| located(path).required_parent().map(str::to_owned);
        assert_eq!(
            parent("/infra/domains/default/groups/web").as_deref(),
            Some("/infra/domains/default")
        );
        assert_eq!(parent("/infra/segments/s").as_deref(), None);
        assert_eq!(parent("/infra/antrea/traceflows/t").as_deref(), None);
        assert_eq!(parent("/orgs/default").as_deref(), None);
        assert_eq!(
            parent("/orgs/default/projects/p").as_deref(),
            Some("/orgs/default")
        );
        assert_eq!(
            parent("/orgs/default/projects/p/infra/segments/s").as_deref(),
            Some("/orgs/default/projects/p"),
            "a project's infra is a container, not a stored object"
        );
        assert_eq!(
            parent("/orgs/default/projects/p/vpcs/v/subnets/s").as_deref(),
            Some("/orgs/default/projects/p/vpcs/v")
        );
        assert!(located("/infra/domains/d").may_have_children());
        assert!(located("/orgs/default/projects/p").may_have_children());
        assert!(!located("/infra/antrea/traceflows/t").may_have_children());
    }

    #[test]
    fn ids_in_a_path_follow_the_id_rules() {
        let long = "x".repeat(256);
        let err = ObjectPath::locate(&["infra", "segments", long.as_str()]).unwrap_err();
        assert_eq!(err.field, "id");
        assert!(ObjectPath::locate(&["infra", "segments", " "]).is_err());
        assert_eq!(
            ObjectPath::locate(&["infra", "nothing", "x"]).unwrap(),
            None
        );
    }
}
