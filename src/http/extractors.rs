//! Request parts, parsed into domain values before a handler runs.

use std::future::{ready, Ready};
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::{self, Bytes};
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;
use percent_encoding::percent_decode_str;

use super::ApiError;
use crate::domain::kind::Kinds;
use crate::domain::snapshot::SnapshotName;
use crate::domain::{FieldError, ObjectId};

/// The route's `{id}` segment: percent-decoded, then checked against NSX's id rules. Read
/// from the raw URI, at the place of `{id}` in the route's pattern, so that an encoded `/`
/// (`%2F`) or invalid UTF-8 is seen and refused rather than decoded by the router.
pub struct PathId(pub ObjectId);

impl FromRequest for PathId {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let place = req
            .match_pattern()
            .and_then(|pattern| pattern.split('/').position(|segment| segment == "{id}"));
        let raw = place
            .and_then(|place| req.uri().path().split('/').nth(place))
            .unwrap_or_default();
        let parsed = percent_decode_str(raw)
            .decode_utf8()
            .map_err(|_| FieldError::new("id", "must be valid UTF-8 after percent-decoding"))
            .and_then(|decoded| ObjectId::parse(&decoded))
            .map(PathId)
            .map_err(ApiError::from);
        ready(parsed)
    }
}

/// How much of a request body is accepted, and how long it may take to arrive
/// (`server.body_limit`, `server.import_body_limit`, `server.request_timeout_ms`).
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    pub max_bytes: usize,
    /// An import's body, which holds a whole store.
    pub import_max_bytes: usize,
    pub timeout: Duration,
}

/// The raw bytes of a request body, within `server.body_limit`, arrived in time.
pub struct Body(pub Bytes);

impl FromRequest for Body {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limits = limits(req);
        let read = read_body(req, payload, limits.max_bytes, limits.timeout);
        Box::pin(async move { read.await.map(Body) })
    }
}

/// The raw bytes of a JSON request body: `Content-Type: application/json`, and a [`Body`].
pub struct JsonBody(pub Bytes);

impl FromRequest for JsonBody {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if let Err(err) = check_content_type(req, JSON) {
            return Box::pin(ready(Err(err)));
        }
        let body = Body::from_request(req, payload);
        Box::pin(async move { body.await.map(|Body(bytes)| JsonBody(bytes)) })
    }
}

/// The JSON body of a hierarchical request, which may hold a whole tree of objects: within
/// `server.import_body_limit`, as an import's.
pub struct TreeBody(pub Bytes);

impl FromRequest for TreeBody {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let read = large_body(req, payload, JSON);
        Box::pin(async move { read.await.map(TreeBody) })
    }
}

/// An import's body: `Content-Type: application/x-ndjson`, within
/// `server.import_body_limit`.
pub struct NdjsonBody(pub Bytes);

impl FromRequest for NdjsonBody {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let read = large_body(req, payload, NDJSON);
        Box::pin(async move { read.await.map(NdjsonBody) })
    }
}

/// A body of media type `wanted` within `server.import_body_limit`: an import's or a tree's.
fn large_body(
    req: &HttpRequest,
    payload: &mut Payload,
    wanted: &'static str,
) -> LocalBoxFuture<'static, Result<Bytes, ApiError>> {
    if let Err(err) = check_content_type(req, wanted) {
        return Box::pin(ready(Err(err)));
    }
    let limits = limits(req);
    read_body(req, payload, limits.import_max_bytes, limits.timeout)
}

pub const JSON: &str = "application/json";
pub const NDJSON: &str = "application/x-ndjson";

fn limits(req: &HttpRequest) -> BodyLimits {
    *req.app_data::<BodyLimits>()
        .expect("BodyLimits are registered")
}

/// Reads the whole body, refusing it past `limit` bytes or after `timeout`.
fn read_body(
    req: &HttpRequest,
    payload: &mut Payload,
    limit: usize,
    timeout: Duration,
) -> LocalBoxFuture<'static, Result<Bytes, ApiError>> {
    if let Err(err) = check_declared_length(req, limit) {
        return Box::pin(ready(Err(err)));
    }
    let payload = web::Payload::from_request(req, payload);
    Box::pin(async move {
        let payload = payload.await.map_err(|_| ApiError::unreadable_body())?;
        let read = tokio::time::timeout(timeout, payload.to_bytes_limited(limit));
        match read.await {
            Ok(Ok(Ok(bytes))) => Ok(bytes),
            Ok(Ok(Err(_))) => Err(ApiError::unreadable_body()),
            Ok(Err(_)) => Err(ApiError::payload_too_large(limit)),
            Err(_) => Err(ApiError::request_timeout()),
        }
    })
}

fn check_content_type(req: &HttpRequest, wanted: &'static str) -> Result<(), ApiError> {
    match req.mime_type() {
        Ok(Some(mime)) if mime.essence_str() == wanted => Ok(()),
        _ => {
            let given = req
                .headers()
                .get(header::CONTENT_TYPE)
                .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
            Err(ApiError::unsupported_media_type(given.as_deref(), wanted))
        }
    }
}

/// Refuses a body whose declared length is over the limit before reading any of it.
fn check_declared_length(req: &HttpRequest, limit: usize) -> Result<(), ApiError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    match declared {
        Some(length) if length > limit as u64 => Err(ApiError::payload_too_large(limit)),
        _ => Ok(()),
    }
}

/// The route's `{name}` segment: a snapshot's name.
pub struct PathName(pub SnapshotName);

impl FromRequest for PathName {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let name = req.match_info().get("name").unwrap_or_default();
        ready(
            SnapshotName::parse(name)
                .map(PathName)
                .map_err(ApiError::from),
        )
    }
}

/// The registry of kinds the server was built with: which type has which behaviour.
pub fn kinds(req: &HttpRequest) -> &dyn Kinds {
    req.app_data::<web::Data<dyn Kinds>>()
        .expect("the kinds are registered")
        .get_ref()
}
