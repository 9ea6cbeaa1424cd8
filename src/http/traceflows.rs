//! Handlers for `/policy/api/v1/infra/antrea/traceflows` and its objects (the README's
//! "Use it").

use actix_web::{web, HttpRequest, HttpResponse};

use super::auth::{Reader, Writer};
use super::extractors::{JsonBody, PathId};
use super::objects::{list_response, object_response};
use super::pages::require_action;
use super::responses::empty_response;
use super::ApiError;
use crate::domain::list::Collection;
use crate::domain::object::traceflow_path;
use crate::domain::{Change, ObjectPath, TraceflowDocument};

type Store = web::Data<dyn crate::storage::Store>;

/// GET of the collection: one page.
pub async fn list(_: Reader, store: Store, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    list_response(&store, &req, Collection::Traceflows).await
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
