//! Request parts, parsed into domain values before a handler runs.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::{self, Bytes};
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;
use percent_encoding::percent_decode_str;

use super::ApiError;
use crate::domain::{FieldError, ObjectId};

/// The id in the last segment of the request path: percent-decoded, then checked against
/// NSX's id rules. Read from the raw URI so that an encoded `/` (`%2F`) is seen and refused.
pub struct PathId(pub ObjectId);

impl FromRequest for PathId {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let raw = req.uri().path().rsplit('/').next().unwrap_or_default();
        let parsed = percent_decode_str(raw)
            .decode_utf8()
            .map_err(|_| FieldError::new("id", "must be valid UTF-8 after percent-decoding"))
            .and_then(|decoded| ObjectId::parse(&decoded))
            .map(PathId)
            .map_err(ApiError::from);
        ready(parsed)
    }
}

/// The largest request body accepted, in bytes (`server.body_limit`).
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// The raw bytes of a JSON request body: `Content-Type: application/json`, within the limit.
pub struct JsonBody(pub Bytes);

impl FromRequest for JsonBody {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req.app_data::<BodyLimit>().map_or(1 << 20, |limit| limit.0);
        if let Err(err) = check_content_type(req).and_then(|()| check_declared_length(req, limit)) {
            return Box::pin(ready(Err(err)));
        }
        let payload = web::Payload::from_request(req, payload);
        Box::pin(async move {
            let payload = payload
                .await
                .map_err(|_| ApiError::bad_request("Unreadable body"))?;
            match payload.to_bytes_limited(limit).await {
                Ok(Ok(bytes)) => Ok(JsonBody(bytes)),
                Ok(Err(_)) => Err(ApiError::bad_request("The request body could not be read.")),
                Err(_) => Err(ApiError::payload_too_large(limit)),
            }
        })
    }
}

fn check_content_type(req: &HttpRequest) -> Result<(), ApiError> {
    match req.mime_type() {
        Ok(Some(mime)) if mime.essence_str() == "application/json" => Ok(()),
        _ => {
            let given = req
                .headers()
                .get(header::CONTENT_TYPE)
                .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
            Err(ApiError::unsupported_media_type(given.as_deref()))
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

/// The user a request acts as: recorded in `_create_user` and `_last_modified_user`.
///
/// Authentication puts the authenticated user into the request's extensions; without it,
/// every request acts as [`Actor::DEFAULT_USER`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor(pub String);

impl Actor {
    pub const DEFAULT_USER: &'static str = "admin";

    pub fn name(&self) -> &str {
        &self.0
    }
}

impl FromRequest for Actor {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let actor = req
            .extensions()
            .get::<Actor>()
            .cloned()
            .unwrap_or_else(|| Actor(Self::DEFAULT_USER.to_owned()));
        ready(Ok(actor))
    }
}
