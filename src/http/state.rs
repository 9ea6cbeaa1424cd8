//! The whole store, for test harnesses (the README's "Using it in a test suite"): reset,
//! snapshots, export and import, under `/store/v1`.

use actix_web::http::header::ContentType;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::auth::{Reader, Writer};
use super::extractors::{kinds, NdjsonBody, PathName, NDJSON};
use super::pages::require_action;
use super::responses::{empty_response, json_response};
use super::{ApiError, STORE_API};
use crate::domain::exchange::{export_lines, parse_import};
use crate::domain::snapshot::SnapshotInfo;
use crate::storage::Store;

type Stores = web::Data<dyn Store>;

/// `POST /store/v1/reset`.
pub async fn reset(Writer(actor): Writer, store: Stores) -> Result<HttpResponse, ApiError> {
    #[derive(Serialize)]
    struct Reset {
        objects_removed: u64,
    }
    let objects_removed = store.reset(&actor.name).await?;
    Ok(json_response(&Reset { objects_removed }))
}

/// `PUT /store/v1/snapshots/{name}`: saves the whole state.
pub async fn save(
    _: Writer,
    store: Stores,
    PathName(name): PathName,
) -> Result<HttpResponse, ApiError> {
    Ok(json_response(&store.save_snapshot(name).await?))
}

/// `GET /store/v1/snapshots`.
pub async fn list(_: Reader, store: Stores) -> Result<HttpResponse, ApiError> {
    #[derive(Serialize)]
    struct Snapshots {
        results: Vec<SnapshotInfo>,
        result_count: usize,
    }
    let results = store.snapshots().await?;
    Ok(json_response(&Snapshots {
        result_count: results.len(),
        results,
    }))
}

/// `GET /store/v1/snapshots/{name}`.
pub async fn read(
    _: Reader,
    store: Stores,
    PathName(name): PathName,
) -> Result<HttpResponse, ApiError> {
    match store.snapshot(&name).await? {
        Some(info) => Ok(json_response(&info)),
        None => Err(ApiError::object_not_found(&snapshot_path(name.as_str()))),
    }
}

/// `POST /store/v1/snapshots/{name}?action=restore`: the state becomes the snapshot's.
pub async fn restore(
    Writer(actor): Writer,
    store: Stores,
    req: HttpRequest,
    PathName(name): PathName,
) -> Result<HttpResponse, ApiError> {
    require_action(&req, "restore")?;
    let path = snapshot_path(name.as_str());
    match store.restore_snapshot(name, &actor.name).await? {
        Some(info) => Ok(json_response(&info)),
        None => Err(ApiError::object_not_found(&path)),
    }
}

/// `DELETE /store/v1/snapshots/{name}`: idempotent.
pub async fn delete(
    _: Writer,
    store: Stores,
    PathName(name): PathName,
) -> Result<HttpResponse, ApiError> {
    store.delete_snapshot(name).await?;
    Ok(empty_response())
}

/// `GET /store/v1/export`: every object, one a line, in path order, as GET serves it.
pub async fn export(_: Reader, store: Stores) -> Result<HttpResponse, ApiError> {
    let objects = store.export().await?;
    Ok(HttpResponse::Ok()
        .content_type(ContentType(NDJSON.parse().expect("a media type")))
        .body(export_lines(&objects)))
}

/// `POST /store/v1/import`: creates every object of the NDJSON body, or none.
pub async fn import(
    Writer(actor): Writer,
    store: Stores,
    req: HttpRequest,
    NdjsonBody(body): NdjsonBody,
) -> Result<HttpResponse, ApiError> {
    #[derive(Serialize)]
    struct Imported {
        imported: u64,
    }
    let lines = parse_import(&body, kinds(&req))
        .map_err(|err| ApiError::invalid_field(&err.into_field_error()))?;
    let imported = store.import(lines, &actor.name).await?;
    Ok(json_response(&Imported { imported }))
}

fn snapshot_path(name: &str) -> String {
    format!("{STORE_API}/snapshots/{name}")
}
