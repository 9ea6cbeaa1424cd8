//! The schemas of the bodies the operations tables name, written as data: the core's in
//! `schemas.json` (NSX's errors, tags, search, the Hierarchical API's root, the node and the
//! session; realized state and its scripts; what the inspector reads; the events and
//! requests streams and the journal; fault rules, reset, snapshots, export and import), a
//! kind's in its folder, each read into a [`Schemas`].

use std::sync::OnceLock;

use serde_json::{Map, Value};

/// Named schemas, as a JSON object of them written in a file; read once, on first use.
pub struct Schemas {
    text: &'static str,
    read: OnceLock<Map<String, Value>>,
}

impl Schemas {
    pub const fn new(text: &'static str) -> Self {
        Schemas {
            text,
            read: OnceLock::new(),
        }
    }

    /// The schema named `name`; `None` for a name it does not know.
    pub fn get(&self, name: &str) -> Option<Value> {
        let read = self.read.get_or_init(|| {
            serde_json::from_str(self.text).expect("a schemas file is a JSON object of schemas")
        });
        read.get(name).cloned()
    }
}

static CORE: Schemas = Schemas::new(include_str!("schemas.json"));

/// The schema of one of the core's named bodies; `None` for a name it does not know.
pub fn schema(name: &str) -> Option<Value> {
    CORE.get(name)
}
