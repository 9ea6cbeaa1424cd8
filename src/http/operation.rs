//! What an operation is: its method, its route, which API document describes it and what
//! that document says (who may call it, its parameters, bodies and errors). The table of
//! every operation is [`super::operations`].

use actix_web::http::Method;
use actix_web::{web, Handler, Responder, Route};
use serde_json::Value;

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

/// An operation served by `handler`.
pub fn operation<F, Args>(
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

/// What the kinds add to the API beyond the catalog's CRUD: the operations each serves
/// (its routes and their documents), and the schemas of the bodies those operations name.
/// Functions, as an operation's route is made anew for each use (registering, documenting).
#[derive(Clone, Copy)]
pub struct KindsApi {
    pub operations: fn() -> Vec<Operation>,
    pub schema: fn(&str) -> Option<Value>,
}
