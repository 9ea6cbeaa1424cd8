//! The outermost layer of every request: its id, its span, its one log line, its metrics
//! (the README's "Operability") and its entry in the request journal.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::HttpMessage;
use tracing::Instrument;

use super::journal::Recording;
use super::request_id::{RequestId, REQUEST_ID_HEADER};
use crate::auth::Actor;
use crate::telemetry::metrics;

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
