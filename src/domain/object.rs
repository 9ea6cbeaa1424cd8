//! A stored AntreaTraceflowConfig: the client's config plus what the server sets.

use serde::Serialize;
use uuid::Uuid;

use super::traceflow::RESOURCE_TYPE;
use super::{ObjectId, TraceflowConfig};

/// Where traceflow configs live in the policy tree.
pub const PARENT_PATH: &str = "/infra";
const COLLECTION_PATH: &str = "/infra/antrea/traceflows";

/// The policy path of the traceflow config `id`.
pub fn traceflow_path(id: &ObjectId) -> String {
    format!("{COLLECTION_PATH}/{id}")
}

/// Server-set fields of a stored object (API.md section 2).
#[derive(Debug, Clone, PartialEq)]
pub struct Metadata {
    pub unique_id: Uuid,
    pub revision: i64,
    pub create_time: i64,
    pub create_user: String,
    pub last_modified_time: i64,
    pub last_modified_user: String,
    /// True only in the history row that records a delete.
    pub marked_for_delete: bool,
}

/// One AntreaTraceflowConfig as the store holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Traceflow {
    pub id: ObjectId,
    pub config: TraceflowConfig,
    pub meta: Metadata,
}

impl Traceflow {
    pub fn path(&self) -> String {
        traceflow_path(&self.id)
    }

    /// The object as the API serves it: the client's fields, then the server's.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.wire()).expect("an object always serializes")
    }

    fn wire(&self) -> Wire<'_> {
        let meta = &self.meta;
        Wire {
            config: &self.config,
            resource_type: RESOURCE_TYPE,
            id: self.id.as_str(),
            path: self.path(),
            relative_path: self.id.as_str(),
            parent_path: PARENT_PATH,
            unique_id: meta.unique_id,
            marked_for_delete: meta.marked_for_delete,
            overridden: false,
            create_user: &meta.create_user,
            create_time: meta.create_time,
            last_modified_user: &meta.last_modified_user,
            last_modified_time: meta.last_modified_time,
            system_owned: false,
            protection: "NOT_PROTECTED",
            revision: meta.revision,
        }
    }
}

#[derive(Serialize)]
struct Wire<'a> {
    #[serde(flatten)]
    config: &'a TraceflowConfig,
    resource_type: &'static str,
    id: &'a str,
    path: String,
    relative_path: &'a str,
    parent_path: &'static str,
    unique_id: Uuid,
    marked_for_delete: bool,
    overridden: bool,
    #[serde(rename = "_create_user")]
    create_user: &'a str,
    #[serde(rename = "_create_time")]
    create_time: i64,
    #[serde(rename = "_last_modified_user")]
    last_modified_user: &'a str,
    #[serde(rename = "_last_modified_time")]
    last_modified_time: i64,
    #[serde(rename = "_system_owned")]
    system_owned: bool,
    #[serde(rename = "_protection")]
    protection: &'static str,
    #[serde(rename = "_revision")]
    revision: i64,
}
