//! Every operation the service serves, in one table: the route that serves it and what its
//! API document says of it. [`super::routes`] registers the table and [`super::openapi`]
//! renders it, so a route cannot exist without its documentation, nor the other way round.

use actix_web::http::Method;
use actix_web::{web, Handler, Responder, Route};

use super::{
    auth, events, faults, hierarchy, history, inspector, journal, objects, probes, realization,
    search, spec, state,
};
use super::{NODE_PATH, NODE_VERSION_PATH, NSX_HEALTH_PATH, POLICY_API, STORE_API};
use crate::kinds::traceflow::http as traceflows;
use crate::kinds::traceflow::COLLECTION_PATH;

/// Which of the two API documents an operation belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    /// NSX's own API, as NSX serves it.
    Nsx,
    /// The store's extensions under `/store/v1`.
    Store,
}

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No credentials (the login itself).
    Anyone,
    /// Any authenticated user (`read`).
    Read,
    /// `enterprise_admin` only (`crud`).
    Crud,
}

/// A body, in or out: its media type and the name of its schema in the document's
/// components.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    Json(&'static str),
    Ndjson(&'static str),
    Form(&'static str),
    /// Server-Sent Events (`text/event-stream`), each event (its name, id and data) of this
    /// schema, as OpenAPI 3.0 documents describe a stream.
    EventStream(&'static str),
    /// A file of this media type (the inspector's page).
    Static(&'static str),
}

/// A query parameter: its name, whether it is required, and its schema (JSON).
#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    pub required: bool,
    pub schema: &'static str,
    pub description: &'static str,
}

/// What the document says of an operation.
#[derive(Debug, Clone, Copy)]
pub struct Doc {
    pub operation_id: &'static str,
    pub summary: &'static str,
    pub access: Access,
    pub query: &'static [Param],
    pub body: Option<Content>,
    /// The 200 answer's body; `None`: an empty body.
    pub answer: Option<Content>,
    /// The error statuses this operation answers by its own rules (every operation may also
    /// answer 401/403 for credentials, 405, 500 and 503: the document's `default`).
    pub errors: &'static [u16],
}

/// One operation: its method, its path (a route template), its document and its route.
pub struct Operation {
    pub method: Method,
    pub path: String,
    pub document: Document,
    pub doc: Doc,
    pub route: Route,
}

fn operation<F, Args>(
    method: Method,
    path: impl Into<String>,
    document: Document,
    doc: Doc,
    handler: F,
) -> Operation
where
    F: Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: Responder + 'static,
{
    Operation {
        route: web::route().method(method.clone()).to(handler),
        method,
        path: path.into(),
        document,
        doc,
    }
}

const PAGE_SIZE: Param = Param {
    name: "page_size",
    required: false,
    schema: r#"{"type": "integer", "minimum": 0, "maximum": 1000, "default": 1000}"#,
    description: "Objects per page.",
};
const CURSOR: Param = Param {
    name: "cursor",
    required: false,
    schema: r#"{"type": "string"}"#,
    description: "Opaque; from the previous page's answer.",
};
/// The request journal's filters.
const JOURNAL_FILTERS: [Param; 5] = [
    Param {
        name: "path",
        required: false,
        schema: r#"{"type": "string"}"#,
        description: "A glob on the path: `*` any characters but `/`, `**` any characters.",
    },
    Param {
        name: "method",
        required: false,
        schema: r#"{"type": "string"}"#,
        description: "GET, PUT, ... (any case).",
    },
    Param {
        name: "status",
        required: false,
        schema: r#"{"type": "string", "pattern": "^([1-5][0-9][0-9]|[1-5]xx)$"}"#,
        description: "A status (404) or a class of them (4xx).",
    },
    Param {
        name: "user",
        required: false,
        schema: r#"{"type": "string"}"#,
        description: "The authenticated user.",
    },
    Param {
        name: "since",
        required: false,
        schema: r#"{"type": "string"}"#,
        description: "Arrived at or after: epoch milliseconds, or an RFC 3339 time.",
    },
];
const JOURNAL_FILTERS_AND_PAGES: [Param; 7] = [
    JOURNAL_FILTERS[0],
    JOURNAL_FILTERS[1],
    JOURNAL_FILTERS[2],
    JOURNAL_FILTERS[3],
    JOURNAL_FILTERS[4],
    Param {
        name: "page_size",
        required: false,
        schema: r#"{"type": "integer", "minimum": 0, "maximum": 1000, "default": 100}"#,
        description: "Requests per page.",
    },
    Param {
        name: "cursor",
        required: false,
        schema: r#"{"type": "string", "pattern": "^[0-9]+$"}"#,
        description: "From the previous page's answer: the id its next page starts at.",
    },
];
const JOURNAL_STREAM: [Param; 6] = [
    JOURNAL_FILTERS[0],
    JOURNAL_FILTERS[1],
    JOURNAL_FILTERS[2],
    JOURNAL_FILTERS[3],
    JOURNAL_FILTERS[4],
    Param {
        name: "after",
        required: false,
        schema: r#"{"type": "integer", "minimum": 0}"#,
        description: "The entry to go on after (an event's id); 0: from the oldest kept.",
    },
];
const ENFORCEMENT_POINT: Param = Param {
    name: "enforcement_point_path",
    required: false,
    schema: r#"{"type": "string"}"#,
    description: "Accepted and ignored: there is one enforcement point.",
};

const LIST_QUERY: &[Param] = &[
    PAGE_SIZE,
    CURSOR,
    Param {
        name: "sort_by",
        required: false,
        schema: r#"{"type": "string", "enum": ["display_name", "id", "_create_time", "_last_modified_time"], "default": "display_name"}"#,
        description: "The order; ties are broken by id.",
    },
    Param {
        name: "sort_ascending",
        required: false,
        schema: r#"{"type": "boolean", "default": true}"#,
        description: "",
    },
    Param {
        name: "included_fields",
        required: false,
        schema: r#"{"type": "string"}"#,
        description: "Accepted; ignored for plain lists, as NSX does.",
    },
    Param {
        name: "include_mark_for_delete_objects",
        required: false,
        schema: r#"{"type": "boolean"}"#,
        description: "Accepted; nothing is marked for delete.",
    },
];

/// Realized state's: the object asked about.
const INTENT_PATH: Param = Param {
    name: "intent_path",
    required: true,
    schema: r#"{"type": "string"}"#,
    description: "The policy path of the object.",
};
const SITE_PATH: Param = Param {
    name: "site_path",
    required: false,
    schema: r#"{"type": "string"}"#,
    description: "Accepted and ignored: there is one site.",
};

/// The Hierarchical API's: check each object's `_revision` as a PATCH does.
pub const ENFORCE_REVISION_CHECK: Param = Param {
    name: "enforce_revision_check",
    required: false,
    schema: r#"{"type": "boolean", "default": false}"#,
    description: "Check each object's _revision, as a PATCH of it does.",
};

const SEARCH_QUERY: &[Param] = &[
    Param {
        name: "query",
        required: true,
        schema: r#"{"type": "string"}"#,
        description: "field:value terms (dotted fields, * and ? wildcards, \\ escapes, \"quotes\") joined by AND, OR, NOT and parentheses.",
    },
    PAGE_SIZE,
    CURSOR,
    Param {
        name: "sort_by",
        required: false,
        schema: r#"{"type": "string", "enum": ["display_name", "id", "_create_time", "_last_modified_time"]}"#,
        description: "The order; by path where absent. Ties are broken by path.",
    },
    Param {
        name: "sort_ascending",
        required: false,
        schema: r#"{"type": "boolean", "default": true}"#,
        description: "",
    },
    Param {
        name: "included_fields",
        required: false,
        schema: r#"{"type": "string"}"#,
        description: "Accepted and ignored: whole objects are answered.",
    },
];

const RETRACE: &[Param] = &[Param {
    name: "action",
    required: true,
    schema: r#"{"type": "string", "enum": ["retrace"]}"#,
    description: "The action to take.",
}];
const RESTORE: &[Param] = &[Param {
    name: "action",
    required: true,
    schema: r#"{"type": "string", "enum": ["restore"]}"#,
    description: "The action to take.",
}];

/// Every operation, in the order their routes are matched.
pub fn operations() -> Vec<Operation> {
    use Access::{Anyone, Crud, Read};
    use Content::{EventStream, Form, Json, Ndjson, Static};
    use Document::{Nsx, Store};
    let traceflows = format!("{POLICY_API}{COLLECTION_PATH}");
    let traceflow = format!("{traceflows}/{{id}}");
    let snapshot = format!("{STORE_API}/snapshots/{{name}}");
    let script = format!("{STORE_API}/traceflows/{{id}}/result");
    let fault = format!("{}/{{id}}", faults::FAULTS_PATH);
    let project_infra = format!("{POLICY_API}/orgs/{{org}}/projects/{{project}}/infra");
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
            inspector::UI_PATH,
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
            format!("{}app.js", inspector::UI_PATH),
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
            format!("{}app.css", inspector::UI_PATH),
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
