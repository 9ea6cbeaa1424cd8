//! Where the API documents are served, and the handlers that serve them: the documents
//! themselves are built once at start-up ([`super::openapi::documents`]) and handed to the
//! handlers as app data, so that serving them needs nothing of the operations table.

use actix_web::{web, HttpResponse};
use serde_json::Value;

use super::auth::Reader;
use super::responses::json_response;

pub const NSX_DOCUMENT_PATH: &str = "/api/v1/spec/openapi/nsx_policy_api.json";
pub const NSX_POLICY_DOCUMENT_PATH: &str = "/policy/api/v1/spec/openapi/nsx_policy_api.json";
pub const STORE_DOCUMENT_PATH: &str = "/store/v1/openapi.json";

/// The two OpenAPI documents the service serves.
pub struct ApiDocuments {
    /// NSX's operations.
    pub nsx: Value,
    /// The store's extensions under `/store/v1`.
    pub store: Value,
}

/// `GET` of either NSX spec path.
pub async fn nsx_document(_: Reader, documents: web::Data<ApiDocuments>) -> HttpResponse {
    json_response(&documents.nsx)
}

/// `GET /store/v1/openapi.json`.
pub async fn store_document(_: Reader, documents: web::Data<ApiDocuments>) -> HttpResponse {
    json_response(&documents.store)
}
