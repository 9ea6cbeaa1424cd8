//! The kinds: what a type does beyond what the catalog says of it, one module each, and the
//! registry that tells the core which type has which ([`Registry`]). Every type the registry
//! does not name is of the catalog's own kind.
//!
//! A kind with behaviour of its own is a module here and a line in [`Registry::new`] (and in
//! [`API`] where it serves operations of its own); what it may override is
//! [`crate::domain::kind::Kind`]'s.

pub mod gateway;
pub mod group;
pub mod lb_service;
pub mod project;
pub mod segment;
pub mod traceflow;
pub mod vpc_subnet;

use std::sync::Arc;

use actix_web::web;
use serde_json::Value;

use crate::configuration::Settings;
use crate::domain::catalog::{catalog, TypeId};
use crate::domain::kind::{Kind, Kinds, CATALOG_KIND};
use crate::domain::{ObjectId, ObjectPath};
use crate::http::operation::{KindsApi, Operation};
use crate::storage::side::{SideState, SideTask, StoreKinds};

use traceflow::run::ResultsPolicy;
use traceflow::side::Runs;

pub use traceflow::remote::Progress;

/// Which kind each type has, and which of them keep rows of their own.
pub struct Registry {
    kinds: Vec<(TypeId, Box<dyn Kind>)>,
    sides: Vec<(TypeId, Arc<dyn SideState>)>,
    /// The traceflows' runs, which their routes start and read.
    pub runs: Arc<Runs>,
}

impl Registry {
    /// Every kind, with what the settings say of it.
    pub fn from_settings(settings: &Settings) -> Arc<Self> {
        let seed = settings.determinism.simulation_seed();
        Arc::new(Self::new(settings.traceflow.policy(seed)))
    }

    /// Every kind, with its settings: traceflows with where their results come from.
    pub fn new(results: ResultsPolicy) -> Self {
        let traceflows = traceflow::Traceflows::new(results);
        let runs = Arc::clone(&traceflows.runs);
        let mut registry = Self {
            kinds: Vec::new(),
            sides: Vec::new(),
            runs: Arc::clone(&runs),
        };
        registry.add(traceflow::RESOURCE_TYPE, traceflows);
        registry.keep(traceflow::RESOURCE_TYPE, runs);
        registry.add(project::RESOURCE_TYPE, project::Projects);
        registry.add(segment::RESOURCE_TYPE, segment::Segments);
        for resource_type in gateway::RESOURCE_TYPES {
            registry.add(resource_type, gateway::Gateways);
        }
        registry.add(vpc_subnet::RESOURCE_TYPE, vpc_subnet::VpcSubnets);
        registry
    }

    /// `kind` is the kind of the type named `resource_type` (a route's declared type).
    fn add(&mut self, resource_type: &str, kind: impl Kind + 'static) {
        self.kinds.push((type_id(resource_type), Box::new(kind)));
    }

    /// Objects of the type named `resource_type` keep rows of their own: `side`.
    fn keep(&mut self, resource_type: &str, side: Arc<dyn SideState>) {
        self.sides.push((type_id(resource_type), side));
    }

    /// Gives the HTTP handlers the registry (as [`Kinds`]) and what the kinds' own routes
    /// use (the traceflows' runs).
    pub fn register(self: &Arc<Self>, config: &mut web::ServiceConfig) {
        config
            .app_data(web::Data::<dyn Kinds>::from(
                Arc::clone(self) as Arc<dyn Kinds>
            ))
            .app_data(web::Data::from(Arc::clone(&self.runs)));
    }
}

/// What the kinds add to the HTTP API: the traceflow's, the segment's, the LB service's, the
/// group's, the gateway's and the VPC subnet's operations and their schemas.
pub const API: KindsApi = KindsApi {
    operations: kind_operations,
    schema: kind_schema,
};

fn kind_operations() -> Vec<Operation> {
    let mut operations = traceflow::operations::operations();
    operations.extend(segment::operations());
    operations.extend(lb_service::operations());
    operations.extend(group::operations());
    operations.extend(gateway::state::operations());
    operations.extend(vpc_subnet::operations());
    operations
}

fn kind_schema(name: &str) -> Option<Value> {
    traceflow::schemas::schema(name)
        .or_else(|| segment::schema(name))
        .or_else(|| lb_service::schema(name))
        .or_else(|| group::schema(name))
        .or_else(|| gateway::state::schema(name))
        .or_else(|| vpc_subnet::schema(name))
}

fn type_id(resource_type: &str) -> TypeId {
    catalog()
        .type_named(resource_type)
        .unwrap_or_else(|| panic!("the catalog has the type {resource_type}"))
}

impl StoreKinds for Registry {
    fn side_at(&self, path: &ObjectPath) -> Option<&dyn SideState> {
        let resource_type = catalog().route(path.route()).object_type;
        self.sides
            .iter()
            .find(|(kind_type, _)| *kind_type == resource_type)
            .map(|(_, side)| side.as_ref())
    }

    fn side_states(&self) -> Vec<&dyn SideState> {
        self.sides.iter().map(|(_, side)| side.as_ref()).collect()
    }
}

impl Kinds for Registry {
    fn of(&self, resource_type: TypeId) -> &dyn Kind {
        self.kinds
            .iter()
            .find(|(kind_type, _)| *kind_type == resource_type)
            .map_or(&CATALOG_KIND, |(_, kind)| kind.as_ref())
    }

    /// An import's bare `id` is a traceflow's, as the contract's exchange format was first
    /// one AntreaTraceflowConfig a line.
    fn bare_id_type(&self) -> Option<&'static str> {
        Some(traceflow::RESOURCE_TYPE)
    }

    fn path_of_bare_id(&self, id: &ObjectId) -> Option<ObjectPath> {
        Some(traceflow::path_of(id))
    }
}

impl Registry {
    /// `import --from URL`: what the kinds read from a live NSX Manager (or another store)
    /// through `get` (a GET of a path there, its JSON answer): the import lines, and the
    /// tasks to run once they are imported. The traceflows are what NSX has to import (with
    /// `with_results`, each one's recorded result, set as its script).
    pub async fn fetch_remote(
        &self,
        get: impl AsyncFn(&str) -> anyhow::Result<Value>,
        with_results: bool,
        progress: impl Fn(Progress),
    ) -> anyhow::Result<(Vec<u8>, Vec<SideTask>)> {
        let fetched = traceflow::remote::fetch(get, with_results, progress).await?;
        let tasks = fetched.scripts.into_iter();
        let tasks = tasks.map(|(id, script)| self.runs.set_script(&id, script));
        Ok((fetched.lines, tasks.collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::openapi::{described, document};
    use crate::http::operations::{operations, Document};

    /// Every schema a document refers to is in it.
    #[test]
    fn every_reference_resolves() {
        let operations = operations(&API);
        for which in [Document::Nsx, Document::Store] {
            let document = document(which, &operations, &API);
            let schemas = document["components"]["schemas"].as_object().unwrap();
            let text = document.to_string();
            for reference in text.split("\"#/components/schemas/").skip(1) {
                let name = reference.split('"').next().unwrap();
                assert!(schemas.contains_key(name), "{which:?} lacks {name}");
            }
        }
    }

    /// Each operation is in exactly one document, with its method and route template.
    #[test]
    fn the_documents_describe_every_operation_once() {
        let operations = operations(&API);
        let nsx = described(&document(Document::Nsx, &operations, &API));
        let store = described(&document(Document::Store, &operations, &API));
        // The catalog's routes are served by the one catalog-wide resource, not the table.
        let from_table =
            |(_, path): &(String, String)| operations.iter().any(|op| &op.path == path);
        let mut all: Vec<_> = nsx
            .iter()
            .chain(&store)
            .filter(|op| from_table(op))
            .cloned()
            .collect();
        all.sort();
        let mut served: Vec<_> = operations
            .iter()
            .map(|op| (op.method.to_string(), op.path.clone()))
            .collect();
        served.sort();
        assert_eq!(all, served);
        assert!(store
            .iter()
            .all(|(_, path)| path.starts_with("/store/v1/") || path.starts_with("/store/ui/")));
        assert!(nsx.iter().all(|(_, path)| !path.starts_with("/store/")));
    }
}
