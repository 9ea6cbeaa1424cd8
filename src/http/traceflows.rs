//! Handlers for `/policy/api/v1/infra/antrea/traceflows` and its objects (the README's
//! "Use it").

use actix_web::http::header::ContentType;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use serde_json::value::RawValue;

use super::auth::{Reader, Writer};
use super::extractors::{JsonBody, PathId};
use super::pages::{query_pairs, require_action, PageBody};
use super::responses::empty_response;
use super::ApiError;
use crate::domain::list::ListQuery;
use crate::domain::object::traceflow_path;
use crate::domain::paging::Params;
use crate::domain::{Change, ObjectPath, PolicyObject, TraceflowDocument};

type Store = web::Data<dyn crate::storage::Store>;

/// The ordering a list answer reports back.
#[derive(Serialize)]
struct ListOrder {
    sort_by: &'static str,
    sort_ascending: bool,
}

/// GET of the collection: one page.
pub async fn list(_: Reader, store: Store, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let pairs = query_pairs(&req)?;
    let cursors = store.cursor_key();
    let query = ListQuery::parse(&Params::new(&pairs), cursors)?;
    let page = store.list(&query).await?;
    let order = ListOrder {
        sort_by: query.sort_by.as_str(),
        sort_ascending: query.ascending,
    };
    let scope = query.cursor_scope();
    let body = PageBody::new(page, (cursors, &scope), order, |object| {
        RawValue::from_string(object.to_json()).expect("an object renders as JSON")
    });
    Ok(body.response())
}

/// GET: the stored object.
pub async fn read(_: Reader, store: Store, PathId(id): PathId) -> Result<HttpResponse, ApiError> {
    let path = ObjectPath::traceflow(&id);
    match store.get(&path).await? {
        Some(object) => Ok(object_response(&object)),
        None => Err(ApiError::object_not_found(path.as_str())),
    }
}

/// PUT: create, or replace with the stored `_revision`. Answers the stored object.
pub async fn put(
    Writer(actor): Writer,
    store: Store,
    PathId(id): PathId,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let document = TraceflowDocument::parse(&body, &id)?;
    let applied = store
        .write(
            ObjectPath::traceflow(&id),
            Change::Put(document.into()),
            &actor.name,
        )
        .await?
        .expect("a PUT always writes a revision");
    Ok(object_response(&applied.object))
}

/// PATCH: create, or merge the top-level fields given. Answers an empty body.
pub async fn patch(
    Writer(actor): Writer,
    store: Store,
    PathId(id): PathId,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let document = TraceflowDocument::parse(&body, &id)?;
    store
        .write(
            ObjectPath::traceflow(&id),
            Change::Patch(document.into()),
            &actor.name,
        )
        .await?;
    Ok(empty_response())
}

/// DELETE: idempotent; any body is ignored. Answers an empty body.
pub async fn delete(
    Writer(actor): Writer,
    store: Store,
    PathId(id): PathId,
) -> Result<HttpResponse, ApiError> {
    store
        .write(ObjectPath::traceflow(&id), Change::Delete, &actor.name)
        .await?;
    Ok(empty_response())
}

/// POST `?action=retrace`: starts a new run of the traceflow, whose result replaces the
/// last run's; the config and its `_revision` stay as they are. Answers the object.
pub async fn post_action(
    _: Reader,
    store: Store,
    req: HttpRequest,
    PathId(id): PathId,
) -> Result<HttpResponse, ApiError> {
    require_action(&req, "retrace")?;
    match store.retrace(id.clone()).await? {
        Some(object) => Ok(object_response(&object)),
        None => Err(ApiError::object_not_found(&traceflow_path(&id))),
    }
}

fn object_response(object: &PolicyObject) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(object.to_json())
}
