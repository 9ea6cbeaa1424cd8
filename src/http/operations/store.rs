//! The store's own operations under `/store/v1` (and the inspector's page): what a test
//! harness or a person uses to look into the store and to drive it.

use actix_web::http::Method;

use super::params::*;
use crate::http::operation::{operation, Access, Content, Doc, Document, Operation, Param};
use crate::http::{
    events, faults, history, inspector, journal, landing, realization, state, STORE_API,
};

/// The inspector's page and what it reads, and the revisions of every object.
pub fn inspector() -> Vec<Operation> {
    use Access::{Anyone, Read};
    use Content::{Json, Static};
    use Document::Store;
    vec![
        operation(
            Method::GET,
            format!("{STORE_API}/revisions"),
            Store,
            Doc {
                operation_id: "ListRevisions",
                summary: "The history of one object, newest first, paged.",
                access: Read,
                query: &[
                    Param {
                        name: "path",
                        required: true,
                        schema: r#"{"type": "string", "pattern": "^/"}"#,
                        description: "The object's policy path, e.g. /infra/antrea/traceflows/t14.",
                    },
                    PAGE_SIZE,
                    CURSOR,
                ],
                body: None,
                answer: Some(Json("RevisionListResult")),
                errors: &[400],
            },
            history::revisions,
        ),
        operation(
            Method::GET,
            landing::UI_PATH,
            Store,
            Doc {
                operation_id: "ReadInspectorPage",
                summary: "The inspector: a page of the store's state, history and runs, live.",
                access: Anyone,
                query: &[],
                body: None,
                answer: Some(Static("text/html")),
                errors: &[],
            },
            inspector::asset,
        ),
        operation(
            Method::GET,
            format!("{}app.js", landing::UI_PATH),
            Store,
            Doc {
                operation_id: "ReadInspectorScript",
                summary: "The inspector's script.",
                access: Anyone,
                query: &[],
                body: None,
                answer: Some(Static("text/javascript")),
                errors: &[],
            },
            inspector::asset,
        ),
        operation(
            Method::GET,
            format!("{}app.css", landing::UI_PATH),
            Store,
            Doc {
                operation_id: "ReadInspectorStyle",
                summary: "The inspector's style sheet.",
                access: Anyone,
                query: &[],
                body: None,
                answer: Some(Static("text/css")),
                errors: &[],
            },
            inspector::asset,
        ),
        operation(
            Method::GET,
            format!("{STORE_API}/whoami"),
            Store,
            Doc {
                operation_id: "ReadWhoAmI",
                summary: "The caller's name and role, and whether it may change anything.",
                access: Read,
                query: &[],
                body: None,
                answer: Some(Json("WhoAmI")),
                errors: &[],
            },
            inspector::whoami,
        ),
        operation(
            Method::GET,
            format!("{STORE_API}/tree"),
            Store,
            Doc {
                operation_id: "ReadTreeNode",
                summary: "What hangs from the object at `parent` (the roots without it), by \
                          type: counts, and where each type's objects are listed.",
                access: Read,
                query: &[Param {
                    name: "parent",
                    required: false,
                    schema: r#"{"type": "string"}"#,
                    description: "A policy path; the roots where absent.",
                }],
                body: None,
                answer: Some(Json("TreeNode")),
                errors: &[400],
            },
            inspector::tree,
        ),
        operation(
            Method::GET,
            format!("{STORE_API}/tree/branches"),
            Store,
            Doc {
                operation_id: "ReadTreeBranches",
                summary: "Which of the objects at the paths `path` names (up to 200) have \
                          anything below them.",
                access: Read,
                query: &[Param {
                    name: "path",
                    required: false,
                    schema: r#"{"type": "array", "items": {"type": "string"}, "maxItems": 200}"#,
                    description: "A policy path; repeated for each object asked about.",
                }],
                body: None,
                answer: Some(Json("TreeBranches")),
                errors: &[400],
            },
            inspector::branches,
        ),
    ]
}

/// The events and requests streams and the request journal, and realization scripts.
pub fn streams_and_realization() -> Vec<Operation> {
    use Access::{Crud, Read};
    use Content::{EventStream, Json};
    use Document::Store;
    vec![
        operation(
            Method::GET,
            events::EVENTS_PATH,
            Store,
            Doc {
                operation_id: "StreamEvents",
                summary: "Server-Sent Events: every committed change (position, path, \
                          operation, revision, user, time), reset, restore and import, in \
                          commit order, after `after` or Last-Event-ID; from now on without \
                          either.",
                access: Read,
                query: &[Param {
                    name: "after",
                    required: false,
                    schema: r#"{"type": "integer", "minimum": 0}"#,
                    description:
                        "The position to go on from (an event's id); 0: from the first change kept.",
                }],
                body: None,
                answer: Some(EventStream("StoreEvent")),
                errors: &[400],
            },
            events::events,
        ),
        operation(
            Method::GET,
            journal::REQUESTS_PATH,
            Store,
            Doc {
                operation_id: "ListRequests",
                summary: "The request journal: the last requests the API answered (time, \
                          method, path and query, user, request id, status, error_code, \
                          duration, fault rule; the bodies, when kept, for enterprise_admin \
                          only), newest first, filtered and paged.",
                access: Read,
                query: &JOURNAL_FILTERS_AND_PAGES,
                body: None,
                answer: Some(Json("RequestEntryListResult")),
                errors: &[400],
            },
            journal::list,
        ),
        operation(
            Method::DELETE,
            journal::REQUESTS_PATH,
            Store,
            Doc {
                operation_id: "ClearRequests",
                summary: "Forgets every request of the journal (ids go on).",
                access: Crud,
                query: &[],
                body: None,
                answer: None,
                errors: &[],
            },
            journal::clear,
        ),
        operation(
            Method::GET,
            journal::REQUESTS_STREAM_PATH,
            Store,
            Doc {
                operation_id: "StreamRequests",
                summary: "Server-Sent Events: each request the filters keep, as the journal \
                          keeps it, after `after` or Last-Event-ID; from now on without \
                          either.",
                access: Read,
                query: &JOURNAL_STREAM,
                body: None,
                answer: Some(EventStream("RequestEvent")),
                errors: &[400],
            },
            journal::stream,
        ),
        operation(
            Method::PUT,
            realization::SCRIPTS_PATH,
            Store,
            Doc {
                operation_id: "PutRealizationScript",
                summary: "Scripts how intent_path is realized: state for delay_ms (for good \
                          without), then `then`.",
                access: Crud,
                query: &[INTENT_PATH],
                body: Some(Json("RealizationScript")),
                answer: Some(Json("RealizationScript")),
                errors: &[400, 413],
            },
            realization::set_script,
        ),
        operation(
            Method::GET,
            realization::SCRIPTS_PATH,
            Store,
            Doc {
                operation_id: "ReadRealizationScript",
                summary: "The script of intent_path, with its defaults filled in.",
                access: Read,
                query: &[INTENT_PATH],
                body: None,
                answer: Some(Json("RealizationScript")),
                errors: &[400, 404],
            },
            realization::read_script,
        ),
        operation(
            Method::DELETE,
            realization::SCRIPTS_PATH,
            Store,
            Doc {
                operation_id: "DeleteRealizationScript",
                summary: "Deletes the script of intent_path; idempotent.",
                access: Crud,
                query: &[INTENT_PATH],
                body: None,
                answer: None,
                errors: &[400],
            },
            realization::delete_script,
        ),
    ]
}

/// Fault rules, and the determinism the server runs with.
pub fn faults() -> Vec<Operation> {
    use Access::{Crud, Read};
    use Content::Json;
    use Document::Store;
    let fault = format!("{}/{{id}}", faults::FAULTS_PATH);
    vec![
        operation(
            Method::GET,
            format!("{STORE_API}/determinism"),
            Store,
            Doc {
                operation_id: "ReadDeterminism",
                summary: "The deterministic mode's settings, as configured.",
                access: Read,
                query: &[],
                body: None,
                answer: Some(Json("DeterminismState")),
                errors: &[],
            },
            inspector::determinism,
        ),
        operation(
            Method::POST,
            faults::FAULTS_PATH,
            Store,
            Doc {
                operation_id: "CreateFaultRule",
                summary: "Adds a fault or latency rule.",
                access: Crud,
                query: &[],
                body: Some(Json("FaultRule")),
                answer: Some(Json("FaultRuleInForce")),
                errors: &[400, 413],
            },
            faults::create,
        ),
        operation(
            Method::GET,
            faults::FAULTS_PATH,
            Store,
            Doc {
                operation_id: "ListFaultRules",
                summary: "The rules in force, in the order they are checked.",
                access: Read,
                query: &[],
                body: None,
                answer: Some(Json("FaultRuleListResult")),
                errors: &[],
            },
            faults::list,
        ),
        operation(
            Method::DELETE,
            faults::FAULTS_PATH,
            Store,
            Doc {
                operation_id: "DeleteFaultRules",
                summary: "Removes every rule.",
                access: Crud,
                query: &[],
                body: None,
                answer: None,
                errors: &[],
            },
            faults::delete_all,
        ),
        operation(
            Method::DELETE,
            fault,
            Store,
            Doc {
                operation_id: "DeleteFaultRule",
                summary: "Removes one rule.",
                access: Crud,
                query: &[],
                body: None,
                answer: None,
                errors: &[404],
            },
            faults::delete,
        ),
    ]
}

/// Reset, snapshots, export and import.
pub fn state() -> Vec<Operation> {
    use Access::{Crud, Read};
    use Content::{Json, Ndjson};
    use Document::Store;
    let snapshot = format!("{STORE_API}/snapshots/{{name}}");
    vec![
        operation(
            Method::POST,
            format!("{STORE_API}/reset"),
            Store,
            Doc {
                operation_id: "Reset",
                summary: "Removes every object, revision, run and script (not the snapshots).",
                access: Crud,
                query: &[],
                body: None,
                answer: Some(Json("ResetResult")),
                errors: &[],
            },
            state::reset,
        ),
        operation(
            Method::GET,
            format!("{STORE_API}/snapshots"),
            Store,
            Doc {
                operation_id: "ListSnapshots",
                summary: "Every snapshot.",
                access: Read,
                query: &[],
                body: None,
                answer: Some(Json("SnapshotListResult")),
                errors: &[],
            },
            state::list,
        ),
        operation(
            Method::PUT,
            snapshot.clone(),
            Store,
            Doc {
                operation_id: "SaveSnapshot",
                summary:
                    "Saves the whole state under this name, replacing a snapshot of that name.",
                access: Crud,
                query: &[],
                body: None,
                answer: Some(Json("Snapshot")),
                errors: &[400],
            },
            state::save,
        ),
        operation(
            Method::GET,
            snapshot.clone(),
            Store,
            Doc {
                operation_id: "ReadSnapshot",
                summary: "One snapshot.",
                access: Read,
                query: &[],
                body: None,
                answer: Some(Json("Snapshot")),
                errors: &[400, 404],
            },
            state::read,
        ),
        operation(
            Method::POST,
            snapshot.clone(),
            Store,
            Doc {
                operation_id: "RestoreSnapshot",
                summary: "action=restore: the state becomes the snapshot's.",
                access: Crud,
                query: RESTORE,
                body: None,
                answer: Some(Json("Snapshot")),
                errors: &[400, 404],
            },
            state::restore,
        ),
        operation(
            Method::DELETE,
            snapshot,
            Store,
            Doc {
                operation_id: "DeleteSnapshot",
                summary: "Deletes the snapshot; idempotent.",
                access: Crud,
                query: &[],
                body: None,
                answer: None,
                errors: &[400],
            },
            state::delete,
        ),
        operation(
            Method::GET,
            format!("{STORE_API}/export"),
            Store,
            Doc {
                operation_id: "Export",
                summary: "Every object, one a line, in path order, as GET serves it.",
                access: Read,
                query: &[],
                body: None,
                answer: Some(Ndjson("ExportedObjects")),
                errors: &[],
            },
            state::export,
        ),
        operation(
            Method::POST,
            format!("{STORE_API}/import"),
            Store,
            Doc {
                operation_id: "Import",
                summary: "Creates every object of the NDJSON body, or none.",
                access: Crud,
                query: &[],
                body: Some(Ndjson("ImportedObjects")),
                answer: Some(Json("ImportResult")),
                errors: &[400, 413],
            },
            state::import,
        ),
    ]
}
