//! The outermost layer of every request: its id, its span, its one log line, its metrics
//! (the README's "Operability") and its entry in the request journal.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::HttpMessage;
use tracing::Instrument;

use super::journal::Recording;
use crate::auth::Actor;
use crate::telemetry::metrics;

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The longest request id a client may bring.
const REQUEST_ID_MAX_LEN: usize = 128;

/// The id a request is logged under and answered with (`X-Request-Id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(Arc<str>);

impl RequestId {
    /// The client's own id when it is 1–128 visible ASCII characters; otherwise a new UUID
    /// (an id that is not valid is replaced, never refused).
    pub fn of(req: &ServiceRequest) -> Self {
        req.headers()
            .get(REQUEST_ID_HEADER)
            .and_then(|value| Self::parse(value.as_bytes()))
            .unwrap_or_else(|| Self(uuid::Uuid::new_v4().to_string().into()))
    }

    fn parse(value: &[u8]) -> Option<Self> {
        let visible = |byte: &u8| byte.is_ascii_graphic();
        let valid = (1..=REQUEST_ID_MAX_LEN).contains(&value.len()) && value.iter().all(visible);
        // Visible ASCII is UTF-8.
        valid.then(|| Self(String::from_utf8_lossy(value).into()))
    }

    /// The id, shared rather than copied.
    pub fn shared(&self) -> Arc<str> {
        Arc::clone(&self.0)
    }

    fn header_value(&self) -> HeaderValue {
        HeaderValue::from_str(&self.0).expect("visible ASCII is a valid header value")
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Middleware, outermost: gives the request its id (in its extensions, for the error
/// handler), runs it inside a span that carries the id and, once known, the user, and then
/// logs one line and records its metrics. Every answer carries the id back.
pub async fn observe(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = RequestId::of(&req);
    req.extensions_mut().insert(id.clone());
    let recording = Recording::start(&mut req);
    let span = tracing::info_span!("request", request_id = %id, user = tracing::field::Empty);
    // Every layer inside answers its errors as responses (handlers' errors become responses
    // where they arise, and the ApiError catch-all shapes them), so nothing fails past here.
    let mut res = next.call(req).instrument(span).await?;
    let elapsed = started.elapsed();
    res.headers_mut()
        .insert(REQUEST_ID_HEADER, id.header_value());

    let request = res.request();
    let route = request.match_pattern();
    let route = route.as_deref().unwrap_or(metrics::UNMATCHED_ROUTE);
    let method = request.method().as_str();
    let status = res.status().as_u16();
    metrics::request_answered(method, route, status, elapsed);
    let extensions = request.extensions();
    let user = extensions.get::<Actor>().map(|actor| actor.name.as_str());
    tracing::info!(
        request_id = %id,
        method,
        route,
        // The path itself too: the log follows one object (the query is left out).
        path = request.path(),
        status,
        duration_ms = elapsed.as_micros() as f64 / 1000.0,
        user,
        peer = request.peer_addr().map(tracing::field::display),
        "request"
    );
    drop(extensions);
    Ok(match recording {
        Some(recording) => recording.finish(res, elapsed),
        None => res.map_into_left_body(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_request_id_is_kept_only_when_valid() {
        let kept = |value: &[u8]| RequestId::parse(value).map(|id| id.to_string());
        assert_eq!(kept(b"abc-123_XYZ:/="), Some("abc-123_XYZ:/=".into()));
        assert_eq!(kept(&[b'a'; 128]), Some("a".repeat(128)));
        assert_eq!(kept(&[b'a'; 129]), None);
        assert_eq!(kept(b""), None);
        assert_eq!(kept(b"with space"), None);
        assert_eq!(kept(b"tab\there"), None);
        assert_eq!(kept("caf\u{e9}".as_bytes()), None);
    }
}
