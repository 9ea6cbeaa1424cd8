//! The operations built into the core (a kind's are in its folder), by group: NSX's own
//! beyond the catalog's objects (the session, the node endpoints and API documents clients
//! read, realized state, search and the Hierarchical API), then the store's own under
//! `/store/v1` and the inspector's page (what a test harness or a person uses to look into
//! the store and to drive it).

use actix_web::http::Method;

use super::params::*;
use crate::http::operation::{operation, Access, Content, Doc, Document, Operation, Param};
use crate::http::{
    auth, events, faults, hierarchy, history, inspector, journal, landing, probes, realization,
    search, spec, state, NODE_PATH, NODE_VERSION_PATH, NSX_HEALTH_PATH, POLICY_API, STORE_API,
};

/// Logging in and out, the node endpoints clients probe, and the API documents.
pub fn session_and_node() -> Vec<Operation> {
    use Access::{Anyone, Read};
    use Content::{Form, Json};
    use Document::{Nsx, Store};
    vec![
        operation(
            Method::POST,
            auth::LOGIN_PATH,
            Nsx,
            Doc {
                operation_id: "CreateSession",
                summary:
                    "Log in: a JSESSIONID cookie and an X-XSRF-TOKEN header for later requests.",
                access: Anyone,
                query: &[],
                body: Some(Form("SessionCredentials")),
                answer: None,
                errors: &[403],
            },
            auth::login,
        ),
        operation(
            Method::POST,
            auth::LOGOUT_PATH,
            Nsx,
            Doc {
                operation_id: "DestroySession",
                summary: "Log out: the session ends.",
                access: Read,
                query: &[],
                body: None,
                answer: None,
                errors: &[],
            },
            auth::logout,
        ),
        operation(
            Method::GET,
            NODE_VERSION_PATH,
            Nsx,
            Doc {
                operation_id: "ReadNodeVersion",
                summary: "The NSX version this store answers as (nsx.version).",
                access: Read,
                query: &[],
                body: None,
                answer: Some(Json("NodeVersion")),
                errors: &[],
            },
            probes::version,
        ),
        operation(
            Method::GET,
            NODE_PATH,
            Nsx,
            Doc {
                operation_id: "ReadNodeProperties",
                summary: "The node's properties.",
                access: Read,
                query: &[],
                body: None,
                answer: Some(Json("NodeProperties")),
                errors: &[],
            },
            probes::node,
        ),
        operation(
            Method::GET,
            NSX_HEALTH_PATH,
            Nsx,
            Doc {
                operation_id: "ReadReverseProxyNodeHealth",
                summary: "The node's health, as clients check it before they send anything.",
                access: Read,
                query: &[],
                body: None,
                answer: Some(Json("NodeHealth")),
                errors: &[],
            },
            probes::health,
        ),
        operation(
            Method::GET,
            spec::NSX_DOCUMENT_PATH,
            Nsx,
            Doc {
                operation_id: "ReadPolicyApiSpecification",
                summary: "This document.",
                access: Read,
                query: &[],
                body: None,
                answer: Some(Json("OpenApiDocument")),
                errors: &[],
            },
            spec::nsx_document,
        ),
        operation(
            Method::GET,
            spec::NSX_POLICY_DOCUMENT_PATH,
            Nsx,
            Doc {
                operation_id: "ReadPolicyApiSpecificationUnderPolicy",
                summary: "This document, under /policy.",
                access: Read,
                query: &[],
                body: None,
                answer: Some(Json("OpenApiDocument")),
                errors: &[],
            },
            spec::nsx_document,
        ),
        operation(
            Method::GET,
            spec::STORE_DOCUMENT_PATH,
            Store,
            Doc {
                operation_id: "ReadStoreApiSpecification",
                summary: "This document.",
                access: Read,
                query: &[],
                body: None,
                answer: Some(Json("OpenApiDocument")),
                errors: &[],
            },
            spec::store_document,
        ),
    ]
}

/// Realized state, search and the Hierarchical API.
pub fn realization_and_search() -> Vec<Operation> {
    use Access::{Crud, Read};
    use Content::Json;
    use Document::Nsx;
    let project_infra = format!("{POLICY_API}/orgs/{{org}}/projects/{{project}}/infra");
    vec![
        operation(
            Method::GET,
            format!("{POLICY_API}/infra{}", realization::REALIZED_ENTITIES),
            Nsx,
            Doc {
                operation_id: "ListRealizedEntities",
                summary: "The realized entity of intent_path: REALIZED once written, unless \
                          a script says otherwise; none while nothing is stored there.",
                access: Read,
                query: &[INTENT_PATH, SITE_PATH],
                body: None,
                answer: Some(Json("GenericPolicyRealizedResourceListResult")),
                errors: &[400],
            },
            realization::realized_entities,
        ),
        operation(
            Method::GET,
            format!("{project_infra}{}", realization::REALIZED_ENTITIES),
            Nsx,
            Doc {
                operation_id: "ListProjectRealizedEntities",
                summary: "The realized entity of intent_path, as below /infra.",
                access: Read,
                query: &[INTENT_PATH, SITE_PATH],
                body: None,
                answer: Some(Json("GenericPolicyRealizedResourceListResult")),
                errors: &[400],
            },
            realization::realized_entities,
        ),
        operation(
            Method::GET,
            format!("{POLICY_API}/infra{}", realization::REALIZED_ENTITY),
            Nsx,
            Doc {
                operation_id: "ReadRealizedEntity",
                summary: "One realized entity, by the path its list answered.",
                access: Read,
                query: &[Param {
                    name: "realized_path",
                    required: true,
                    schema: r#"{"type": "string"}"#,
                    description: "The realized entity's path.",
                }],
                body: None,
                answer: Some(Json("GenericPolicyRealizedResource")),
                errors: &[400, 404],
            },
            realization::realized_entity,
        ),
        operation(
            Method::GET,
            format!("{POLICY_API}/infra{}", realization::REALIZED_STATUS),
            Nsx,
            Doc {
                operation_id: "ReadIntentStatus",
                summary: "The consolidated realized status of intent_path.",
                access: Read,
                query: &[
                    INTENT_PATH,
                    SITE_PATH,
                    Param {
                        name: "include_enforced_status",
                        required: false,
                        schema: r#"{"type": "boolean"}"#,
                        description: "Accepted and ignored.",
                    },
                ],
                body: None,
                answer: Some(Json("ConsolidatedRealizedStatus")),
                errors: &[400, 404],
            },
            realization::status,
        ),
        operation(
            Method::GET,
            format!("{POLICY_API}/infra/segments/{{id}}/state"),
            Nsx,
            Doc {
                operation_id: "ReadSegmentState",
                summary: "The segment's configuration state on its enforcement point.",
                access: Read,
                query: &[ENFORCEMENT_POINT],
                body: None,
                answer: Some(Json("SegmentConfigurationState")),
                errors: &[400, 404],
            },
            realization::segment_state,
        ),
        operation(
            Method::GET,
            search::SEARCH_PATH,
            Nsx,
            Doc {
                operation_id: "QuerySearch",
                summary: "One page of the objects of every type a Lucene query matches \
                          (resource_type:Segment AND tags.tag:web).",
                access: Read,
                query: SEARCH_QUERY,
                body: None,
                answer: Some(Json("SearchResponse")),
                errors: &[400],
            },
            search::query,
        ),
        operation(
            Method::PATCH,
            hierarchy::ORG_ROOT_PATH,
            Nsx,
            Doc {
                operation_id: "PatchOrgRoot",
                summary: "The Hierarchical API from the org root: orgs, projects, VPCs and \
                          their infra, written in one transaction.",
                access: Crud,
                query: &[ENFORCE_REVISION_CHECK],
                body: Some(Json("OrgRoot")),
                answer: None,
                errors: &[400, 404, 412, 413],
            },
            hierarchy::patch_org_root,
        ),
    ]
}

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
