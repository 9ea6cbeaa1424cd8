//! The kinds: what a type does beyond what the catalog says of it, one module each, and the
//! registry that tells the core which type has which ([`Registry`]). Every type the registry
//! does not name is of the catalog's own kind.
//!
//! A kind with behaviour of its own is a module here and a line in [`Registry::new`]; what it
//! may override is [`crate::domain::kind::Kind`]'s.

pub mod project;
pub mod traceflow;

use std::sync::Arc;

use crate::configuration::Settings;
use crate::domain::catalog::{catalog, TypeId};
use crate::domain::kind::{Kind, Kinds, CATALOG_KIND};
use crate::domain::{ObjectId, ObjectPath};

use traceflow::run::ResultsPolicy;

/// Which kind each type has.
pub struct Registry {
    kinds: Vec<(TypeId, Box<dyn Kind>)>,
}

impl Registry {
    /// Every kind, with what the settings say of it.
    pub fn from_settings(settings: &Settings) -> Arc<Self> {
        Arc::new(Self::new(settings.results_policy()))
    }

    /// Every kind, with its settings: traceflows with where their results come from.
    pub fn new(results: ResultsPolicy) -> Self {
        let mut registry = Self { kinds: Vec::new() };
        registry.add(traceflow::RESOURCE_TYPE, traceflow::Traceflows { results });
        registry.add(project::RESOURCE_TYPE, project::Projects);
        registry
    }

    /// `kind` is the kind of the type named `resource_type` (a route's declared type).
    fn add(&mut self, resource_type: &str, kind: impl Kind + 'static) {
        let id = catalog()
            .type_named(resource_type)
            .unwrap_or_else(|| panic!("the catalog has the type {resource_type}"));
        self.kinds.push((id, Box::new(kind)));
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
