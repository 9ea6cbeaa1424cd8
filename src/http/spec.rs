//! Where the API documents are served, and the handlers that serve them: each document is
//! built and rendered the first time it is asked for ([`super::openapi::document`]), and
//! kept as its text. Built, the NSX document of every catalog type is a tree of some tens of
//! megabytes before it is rendered (3.7 MB of text): a server nobody asks for it never holds
//! it.

use std::sync::OnceLock;

use actix_web::http::header::ContentType;
use actix_web::{web, HttpResponse};
use bytes::Bytes;

use super::auth::Reader;
use super::openapi::document;
use super::operation::{Document, KindsApi, Operation};

/// The two OpenAPI documents the service serves, rendered once asked for.
pub struct ApiDocuments {
    /// What the kinds add to them.
    kinds: KindsApi,
    /// The table of every operation ([`super::operations::operations`]).
    table: fn(&KindsApi) -> Vec<Operation>,
    /// NSX's operations.
    nsx: OnceLock<Bytes>,
    /// The store's extensions under `/store/v1`.
    store: OnceLock<Bytes>,
}

impl ApiDocuments {
    /// The documents of the operations of `table`, the core's and the kinds'.
    pub fn new(kinds: KindsApi, table: fn(&KindsApi) -> Vec<Operation>) -> Self {
        Self {
            kinds,
            table,
            nsx: OnceLock::new(),
            store: OnceLock::new(),
        }
    }

    fn rendered(&self, which: Document) -> Bytes {
        let kept = match which {
            Document::Nsx => &self.nsx,
            Document::Store => &self.store,
        };
        kept.get_or_init(|| {
            let built = document(which, &(self.table)(&self.kinds), &self.kinds);
            serde_json::to_vec(&built)
                .expect("a document serializes")
                .into()
        })
        .clone()
    }

    fn response(&self, which: Document) -> HttpResponse {
        HttpResponse::Ok()
            .content_type(ContentType::json())
            .body(self.rendered(which))
    }
}

/// `GET` of either NSX spec path.
pub async fn nsx_document(_: Reader, documents: web::Data<ApiDocuments>) -> HttpResponse {
    documents.response(Document::Nsx)
}

/// `GET /store/v1/openapi.json`.
pub async fn store_document(_: Reader, documents: web::Data<ApiDocuments>) -> HttpResponse {
    documents.response(Document::Store)
}
