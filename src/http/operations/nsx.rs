//! NSX's own operations beyond the catalog's objects: the session, the node endpoints and
//! API documents clients read, realized state, search and the Hierarchical API.

use actix_web::http::Method;

use super::params::*;
use crate::http::operation::{operation, Access, Content, Doc, Document, Operation, Param};
use crate::http::{
    auth, hierarchy, probes, realization, search, spec, NODE_PATH, NODE_VERSION_PATH,
    NSX_HEALTH_PATH, POLICY_API,
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
