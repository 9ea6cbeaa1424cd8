//! Projects: a project is created with its own default domain
//! (`<project>/infra/domains/default`, which clients cannot create or delete: its route has
//! only GET), and deleted with it. NSX's API reference serves a project's domains read-only:
//! they exist because the project does, and a project's groups and policies live under
//! `.../infra/domains/default`.

use uuid::Uuid;

use crate::domain::kind::{Companion, Kind};
use crate::domain::relations::shipped;
use crate::domain::{Applied, ObjectPath, Operation};

/// The type of this kind.
pub const RESOURCE_TYPE: &str = "Project";

/// The project kind.
pub struct Projects;

impl Kind for Projects {
    fn has_companions(&self) -> bool {
        true
    }

    fn companions(&self, applied: &Applied) -> Vec<Companion> {
        let project = &applied.object;
        let domain = ObjectPath::from_stored(&format!("{}/infra/domains/default", project.path))
            .expect("a project's default domain is served");
        match applied.operation {
            Operation::Create => {
                // Its own unique id, the same for the same project.
                let unique_id = Uuid::new_v5(&project.meta.unique_id, domain.as_str().as_bytes());
                let now = project.meta.create_time;
                vec![Companion::Create(shipped(
                    domain, "Domain", "default", now, unique_id,
                ))]
            }
            Operation::Delete => vec![Companion::Delete(domain)],
            Operation::Replace | Operation::Patch => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::domain::kind::{CatalogOnly, Kinds};
    use crate::domain::relations::{checks, defaults, is_system_owned, Check};
    use crate::domain::Config;

    #[test]
    fn a_project_brings_its_default_domain_and_takes_it_away() {
        let path = ObjectPath::from_stored("/orgs/default/projects/p1").unwrap();
        let document = CatalogOnly.document(Default::default(), &path).unwrap();
        let mut project = defaults(0).remove(0).object.as_ref().clone();
        project.config = Config::create(document, path.id());
        project.path = path;
        let mut applied = Applied {
            operation: Operation::Create,
            object: Arc::new(project),
        };
        let Ok::<[_; 1], _>([Companion::Create(domain)]) = Projects.companions(&applied).try_into()
        else {
            panic!("a create of a project creates its domain");
        };
        assert_eq!(
            domain.object.path.as_str(),
            "/orgs/default/projects/p1/infra/domains/default"
        );
        assert_eq!(domain.object.resource_type(), "Domain");
        assert!(is_system_owned(&domain.object));
        // Its parent is the project, which the create writes first.
        assert_eq!(
            checks(&domain, &CatalogOnly),
            [Check::ParentExists("/orgs/default/projects/p1")]
        );
        applied.operation = Operation::Delete;
        assert_eq!(
            Projects.companions(&applied),
            [Companion::Delete(domain.object.path.clone())]
        );
        applied.operation = Operation::Patch;
        assert_eq!(Projects.companions(&applied), []);
    }
}
