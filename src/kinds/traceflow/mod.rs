//! Antrea traceflows: `AntreaTraceflowConfig`s at `/infra/antrea/traceflows/{id}`. Their
//! fields are checked by their own typed rules ([`config`]: closed at every depth, the
//! contract's ranges, the `timeout` NSX's own example sends), they name no other object and
//! none names them, and every create, replace, PATCH and retrace starts a run ([`run`]),
//! simulated ([`simulation`]) or scripted ([`results`]), whose status and observations are
//! served as NSX serves them.

pub mod config;
pub mod http;
pub mod operations;
pub mod remote;
pub mod results;
pub mod run;
pub mod schemas;
pub mod side;
pub mod simulation;

use std::sync::Arc;

use crate::domain::catalog::TypeId;
use crate::domain::kind::{Kind, Members};
use crate::domain::{FieldError, ObjectId, ObjectPath};

pub use config::{TraceflowConfig, TraceflowFields};
use run::ResultsPolicy;
pub use run::TraceflowSettings;
use side::Runs;

/// The type of traceflow configs.
pub const RESOURCE_TYPE: &str = "AntreaTraceflowConfig";

/// The collection of traceflow configs, under the Policy API's root.
pub const COLLECTION_PATH: &str = "/infra/antrea/traceflows";

/// The path of the traceflow config `id`.
pub fn path_of(id: &ObjectId) -> ObjectPath {
    ObjectPath::locate(&["infra", "antrea", "traceflows", id.as_str()])
        .expect("a valid id makes a valid traceflow path")
        .expect("the catalog serves traceflows")
}

/// Whether `path` is a traceflow config's.
pub fn is_traceflow(path: &ObjectPath) -> bool {
    path.as_str()
        .strip_prefix(COLLECTION_PATH)
        .is_some_and(|rest| rest.len() == path.id().as_str().len() + 1)
}

/// The traceflow kind: its checks, and its runs with where their results come from.
pub struct Traceflows {
    pub runs: Arc<Runs>,
}

impl Traceflows {
    pub fn new(results: ResultsPolicy) -> Self {
        Self {
            runs: Arc::new(Runs { results }),
        }
    }
}

impl Kind for Traceflows {
    fn check(&self, _: TypeId, members: Members) -> Result<Members, FieldError> {
        let fields = TraceflowFields::from_members(&members)?;
        Ok(fields.canonical(members))
    }

    fn complete(&self, members: &Members) -> Result<(), FieldError> {
        config::require(members)
    }

    /// A traceflow's config names no object, and no object names a traceflow.
    fn referable(&self) -> bool {
        false
    }
}

/// What the kind's unit tests share.
#[cfg(test)]
pub(crate) mod testing {
    use super::{TraceflowConfig, TraceflowFields};

    /// The typed config of a traceflow whose members are `body`.
    pub fn traceflow_config(body: serde_json::Value) -> TraceflowConfig {
        let fields = TraceflowFields::from_members(body.as_object().unwrap()).unwrap();
        TraceflowConfig::from(fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::exchange::parse_import;
    use crate::kinds::Registry;
    use uuid::Uuid;

    fn registry() -> Registry {
        Registry::new(run::ResultsPolicy {
            mode: run::ResultsMode::Simulate,
            delay_ms: 0,
            seed: 0,
        })
    }

    #[test]
    fn an_import_line_keeps_the_server_fields_it_carries() {
        let body = br#"{"id": "t1", "container_cluster_id": "c", "source_external_id": "s", "unique_id": "0b9d6e55-5bd4-4b4f-8b1e-0cf0c1f0a8a1", "_create_time": 5, "_create_user": "ann", "_revision": 3, "path": "/ignored"}
{"id": "t2", "container_cluster_id": "c", "source_external_id": "s"}
"#;
        let lines = parse_import(body, &registry()).unwrap();
        assert_eq!(lines[0].path, path_of(&ObjectId::parse("t1").unwrap()));
        let kept = lines[0].clone().into_object(100, "admin", Uuid::nil());
        assert_eq!(kept.meta.create_time, 5);
        assert_eq!(kept.meta.last_modified_time, 5);
        assert_eq!(kept.meta.create_user, "ann");
        assert_eq!(kept.meta.last_modified_user, "ann");
        assert_eq!(kept.meta.revision, 3);
        assert_eq!(
            kept.meta.unique_id.to_string(),
            "0b9d6e55-5bd4-4b4f-8b1e-0cf0c1f0a8a1"
        );
        let created = lines[1].clone().into_object(100, "admin", Uuid::nil());
        assert_eq!((created.meta.create_time, created.meta.revision), (100, 0));
        assert_eq!(created.meta.create_user, "admin");
    }

    #[test]
    fn a_bad_import_line_is_named_with_its_field() {
        let error = |body: &str| parse_import(body.as_bytes(), &registry()).unwrap_err();
        let good = r#"{"id": "t1", "container_cluster_id": "c", "source_external_id": "s"}"#;
        let err = error(&format!("{good}\n\n{{\"id\": \"t2\", \"container_cluster_id\": \"c\", \"source_external_id\": \"s\", \"timeout\": -1}}"));
        assert_eq!((err.line, err.error.field.as_str()), (3, "timeout"));
        assert_eq!(err.into_field_error().field, "line 3: timeout");
        assert_eq!(error(&format!("{good}\n{good}")).line, 2);
        assert_eq!(error("{").error.field, ".");
        assert_eq!(error(r#"{"container_cluster_id": "c"}"#).error.field, "id");
        assert_eq!(
            error(r#"{"id": "t1", "source_external_id": "s"}"#)
                .error
                .field,
            "container_cluster_id"
        );
    }

    #[test]
    fn a_traceflow_path_knows_its_id_and_parent() {
        let path = path_of(&ObjectId::parse("t 14").unwrap());
        assert_eq!(path.as_str(), "/infra/antrea/traceflows/t 14");
        assert_eq!(path.parent(), Some("/infra"));
        assert!(is_traceflow(&path));
        let group = ObjectPath::from_stored("/infra/domains/default/groups/web").unwrap();
        assert!(!is_traceflow(&group));
    }
}
