//! The traceflow's operations: NSX's (its CRUD, served by the generic handlers and
//! documented here with the traceflow's own schemas; its status, observations and retrace)
//! and the store's (earlier runs, result scripts).

use actix_web::http::Method;

use super::http as traceflows;
use super::COLLECTION_PATH;
use crate::http::objects;
use crate::http::operation::{operation, Access, Content, Doc, Document, Operation};
use crate::http::operations::params::{ENFORCEMENT_POINT, LIST_QUERY, RETRACE};
use crate::http::{POLICY_API, STORE_API};

/// Every operation of the traceflow.
pub fn operations() -> Vec<Operation> {
    nsx().into_iter().chain(store()).collect()
}

/// NSX's traceflow operations.
fn nsx() -> Vec<Operation> {
    use Access::{Crud, Read};
    use Content::Json;
    use Document::Nsx;
    let traceflows = format!("{POLICY_API}{COLLECTION_PATH}");
    let traceflow = format!("{POLICY_API}{COLLECTION_PATH}/{{id}}");
    vec![
        operation(
            Method::GET,
            traceflows.clone(),
            Nsx,
            Doc {
                operation_id: "ListAntreaTraceflowConfigs",
                summary: "One page of the traceflow configs.",
                access: Read,
                query: LIST_QUERY,
                body: None,
                answer: Some(Json("AntreaTraceflowConfigListResult")),
                errors: &[400],
            },
            objects::read,
        ),
        operation(
            Method::GET,
            format!("{traceflow}/status"),
            Nsx,
            Doc {
                operation_id: "ReadAntreaTraceflowStatus",
                summary: "The status of the traceflow's current run; {} while it has no result.",
                access: Read,
                query: &[ENFORCEMENT_POINT],
                body: None,
                answer: Some(Json("AntreaTraceflowStatus")),
                errors: &[400, 404],
            },
            traceflows::status,
        ),
        operation(
            Method::GET,
            format!("{traceflow}/observations"),
            Nsx,
            Doc {
                operation_id: "ListAntreaTraceflowObservations",
                summary: "The observations of the traceflow's current run.",
                access: Read,
                query: &[ENFORCEMENT_POINT],
                body: None,
                answer: Some(Json("AntreaTraceflowObservationListResult")),
                errors: &[400, 404],
            },
            traceflows::observations,
        ),
        operation(
            Method::GET,
            traceflow.clone(),
            Nsx,
            Doc {
                operation_id: "ReadAntreaTraceflowConfig",
                summary: "The traceflow config.",
                access: Read,
                query: &[],
                body: None,
                answer: Some(Json("AntreaTraceflowConfig")),
                errors: &[400, 404],
            },
            objects::read,
        ),
        operation(
            Method::PUT,
            traceflow.clone(),
            Nsx,
            Doc {
                operation_id: "UpdateAntreaTraceflowConfig",
                summary:
                    "Creates the traceflow config, or replaces it (with the stored _revision).",
                access: Crud,
                query: &[],
                body: Some(Json("AntreaTraceflowConfig")),
                answer: Some(Json("AntreaTraceflowConfig")),
                errors: &[400, 412, 413],
            },
            objects::put,
        ),
        operation(
            Method::PATCH,
            traceflow.clone(),
            Nsx,
            Doc {
                operation_id: "PatchAntreaTraceflowConfig",
                summary:
                    "Creates the traceflow config, or merges the given top-level fields into it.",
                access: Crud,
                query: &[],
                body: Some(Json("AntreaTraceflowConfig")),
                answer: None,
                errors: &[400, 412, 413],
            },
            objects::patch,
        ),
        operation(
            Method::DELETE,
            traceflow.clone(),
            Nsx,
            Doc {
                operation_id: "DeleteAntreaTraceflowConfig",
                summary: "Deletes the traceflow config and its runs; idempotent.",
                access: Crud,
                query: &[],
                body: None,
                answer: None,
                errors: &[400],
            },
            objects::delete,
        ),
        operation(
            Method::POST,
            traceflow,
            Nsx,
            Doc {
                operation_id: "RestartAntreaTraceflow",
                summary: "action=retrace: starts a new run of the traceflow.",
                access: Read,
                query: RETRACE,
                body: None,
                answer: Some(Json("AntreaTraceflowConfig")),
                errors: &[400, 404],
            },
            traceflows::retrace,
        ),
    ]
}

/// The store's traceflow operations.
fn store() -> Vec<Operation> {
    use Access::{Crud, Read};
    use Content::Json;
    use Document::Store;
    let script = format!("{STORE_API}/traceflows/{{id}}/result");
    vec![
        operation(
            Method::GET,
            format!("{STORE_API}/traceflows/{{id}}/runs"),
            Store,
            Doc {
                operation_id: "ListEarlierTraceflowRuns",
                summary: "The traceflow's runs that later ones replaced, newest first, each with \
                          the result it had.",
                access: Read,
                query: &[],
                body: None,
                answer: Some(Json("EarlierRunList")),
                errors: &[400, 404],
            },
            traceflows::earlier_runs,
        ),
        operation(
            Method::PUT,
            script.clone(),
            Store,
            Doc {
                operation_id: "PutTraceflowScript",
                summary: "Scripts the results of the traceflow's current and later runs.",
                access: Crud,
                query: &[],
                body: Some(Json("TraceflowScript")),
                answer: Some(Json("TraceflowScript")),
                errors: &[400, 413],
            },
            traceflows::put_script,
        ),
        operation(
            Method::GET,
            script.clone(),
            Store,
            Doc {
                operation_id: "ReadTraceflowScript",
                summary: "The traceflow's script, with its defaults filled in.",
                access: Read,
                query: &[],
                body: None,
                answer: Some(Json("TraceflowScript")),
                errors: &[400, 404],
            },
            traceflows::get_script,
        ),
        operation(
            Method::DELETE,
            script,
            Store,
            Doc {
                operation_id: "DeleteTraceflowScript",
                summary: "Deletes the traceflow's script; idempotent.",
                access: Crud,
                query: &[],
                body: None,
                answer: None,
                errors: &[400],
            },
            traceflows::delete_script,
        ),
    ]
}
