//! Where an object lives: its policy path (`/infra/segments/web`), the route of the catalog
//! it belongs to, its id and its parent's path.

use std::fmt;

use super::catalog::{catalog, RouteId};
use super::object::COLLECTION_PATH;
use super::{FieldError, ObjectId};

/// The path of an object the catalog serves. Only [`ObjectPath::locate`] and
/// [`ObjectPath::traceflow`] make one, so every id in it is valid and its route is known.
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

    /// The path of the traceflow config `id`.
    pub fn traceflow(id: &ObjectId) -> Self {
        Self::locate(&["infra", "antrea", "traceflows", id.as_str()])
            .expect("a valid id makes a valid traceflow path")
            .expect("the catalog serves traceflows")
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

    /// Whether this is a traceflow config's path.
    pub fn is_traceflow(&self) -> bool {
        self.text
            .strip_prefix(COLLECTION_PATH)
            .is_some_and(|rest| rest.len() == self.id.as_str().len() + 1)
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
        let traceflow = ObjectPath::traceflow(&ObjectId::parse("t 14").unwrap());
        assert_eq!(traceflow.as_str(), "/infra/antrea/traceflows/t 14");
        assert_eq!(traceflow.parent(), Some("/infra"));
        assert!(traceflow.is_traceflow());
        assert!(!group.is_traceflow());
        assert_eq!(located("/infra").parent(), None);
        assert_eq!(
            located("/orgs/default/projects/p/vpcs/v").parent(),
            Some("/orgs/default/projects/p")
        );
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
