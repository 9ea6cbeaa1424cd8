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

/// A request body's bytes as `read` reads them from the request and its payload: each
/// extractor below is one rule of what a body may be.
macro_rules! body_extractor {
    ($(#[$doc:meta])* $name:ident, $read:expr) => {
        $(#[$doc])*
        pub struct $name(pub Bytes);

        impl FromRequest for $name {
            type Error = ApiError;
            type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

            fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
                let read: fn(&HttpRequest, &mut Payload) -> BodyRead = $read;
                let read = read(req, payload);
                Box::pin(async move { read.await.map($name) })
            }
        }
    };
}

body_extractor!(
    /// The raw bytes of a request body, within `server.body_limit`, arrived in time.
    Body,
    |req, payload| small_body(req, payload, None)
);

body_extractor!(
    /// The raw bytes of a JSON request body: `Content-Type: application/json`, and a
    /// [`Body`].
    JsonBody,
    |req, payload| small_body(req, payload, Some(JSON))
);

body_extractor!(
    /// The JSON body of a hierarchical request, which may hold a whole tree of objects:
    /// within `server.import_body_limit`, as an import's.
    TreeBody,
    |req, payload| large_body(req, payload, JSON)
);

body_extractor!(
    /// An import's body: `Content-Type: application/x-ndjson`, within
    /// `server.import_body_limit`.
    NdjsonBody,
    |req, payload| large_body(req, payload, NDJSON)
);

/// A body being read: its bytes, or why it was refused.
type BodyRead = LocalBoxFuture<'static, Result<Bytes, ApiError>>;

/// A body within `server.body_limit`, of media type `wanted` where one is.
fn small_body(req: &HttpRequest, payload: &mut Payload, wanted: Option<&'static str>) -> BodyRead {
    if let Some(Err(err)) = wanted.map(|wanted| check_content_type(req, wanted)) {
        return Box::pin(ready(Err(err)));
    }
    let limits = limits(req);
    read_body(req, payload, limits.max_bytes, limits.timeout)
}

/// A body of media type `wanted` within `server.import_body_limit`: an import's or a tree's.
fn large_body(req: &HttpRequest, payload: &mut Payload, wanted: &'static str) -> BodyRead {
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
) -> BodyRead {
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
