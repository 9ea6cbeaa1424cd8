//! The request journal over HTTP (the README's "Request journal"): the [`Recording`] of
//! each answered request in [`Journal`] (which the outermost middleware starts and
//! finishes), and `/store/v1/requests`, which pages it, streams it
//! and clears it. Readers with the `read` permission see every entry; only an
//! `enterprise_admin` sees the bodies, when the journal keeps them.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::web::{self, Bytes};
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use futures_util::Stream;
use serde::Serialize;

use super::auth::{Reader, Writer};
use super::error::AnsweredErrorCode;
use super::events::resume_from;
use super::pages::query_pairs;
use super::request_id::RequestId;
use super::responses::{empty_response, json_response};
use super::sse::{self, Event, Feed, Stopping};
use super::ApiError;
use crate::auth::{Actor, Role};
use crate::domain::fault::FaultApplied;
use crate::domain::paging::Params;
use crate::telemetry::journal::{
    cursor, overwrite, overwrite_some, page_size, redact_pairs, BodyView, Captured, Entry, Filter,
    Journal, BATCH,
};

pub const REQUESTS_PATH: &str = "/store/v1/requests";
pub const REQUESTS_STREAM_PATH: &str = "/store/v1/requests/stream";

/// Requests the journal does not keep: its own (reading it would fill it), and the page's
/// static files.
fn is_kept(path: &str) -> bool {
    !path.starts_with(REQUESTS_PATH) && !path.starts_with(super::landing::UI_PATH)
}

/// A request the journal keeps, from its arrival on: what it needs to keep the request once
/// it is answered. The outermost middleware ([`super::observe`], which gives the request its
/// id) starts and finishes it.
pub struct Recording {
    journal: web::Data<Journal>,
    /// When it arrived, epoch milliseconds.
    arrived: i64,
    /// With bodies kept: the most bytes of each, and the request's, as it passes.
    bodies: Option<(usize, (Shared, Option<String>))>,
}

impl Recording {
    /// Starts keeping `req`, unless the journal keeps nothing or not its path; where it keeps
    /// bodies, the request's is copied as the handler reads it.
    pub fn start(req: &mut ServiceRequest) -> Option<Self> {
        let journal = req
            .app_data::<web::Data<Journal>>()
            .filter(|journal| journal.is_on() && is_kept(req.path()))
            .cloned()?;
        let bodies = journal
            .body_limit()
            .map(|limit| (limit, tap_request(req, limit)));
        Some(Self {
            journal,
            arrived: chrono::Utc::now().timestamp_millis(),
            bodies,
        })
    }

    /// Keeps the request, answered with `res` after `duration`; where the journal keeps
    /// bodies, the answer's is copied as it is sent.
    pub fn finish<B: MessageBody + 'static>(
        self,
        res: ServiceResponse<B>,
        duration: Duration,
    ) -> ServiceResponse<EitherBody<B>> {
        let (res, bodies) = match self.bodies {
            Some((limit, (captured, content_type))) => {
                let (res, answer) = tap_answer(res, limit);
                let captured = captured.lock().expect("journal capture lock");
                let request = BodyView::of(&captured.bytes, captured.size, content_type);
                (res, Some((request, answer)))
            }
            None => (res.map_into_left_body(), None),
        };
        self.journal.record(|entry| {
            write_entry(entry, res.request(), res.response(), self.arrived, duration);
            if let Some((request, answer)) = bodies {
                (entry.request_body, entry.response_body) = (request, answer);
            }
        });
        res
    }
}

/// `entry` made the one of an answered request, without bodies, in the room it has.
fn write_entry<B>(
    entry: &mut Entry,
    request: &HttpRequest,
    response: &HttpResponse<B>,
    arrived: i64,
    duration: Duration,
) {
    let extensions = request.extensions();
    let fault = extensions.get::<FaultApplied>();
    let query = request.query_string();
    entry.time = arrived;
    overwrite(&mut entry.method, request.method().as_str());
    overwrite(&mut entry.path, request.path());
    entry.query = (!query.is_empty()).then(|| redact_pairs(query));
    let user = extensions.get::<Actor>().map(|actor| actor.name.as_str());
    overwrite_some(&mut entry.user, user);
    let request_id = extensions.get::<RequestId>().map_or("", RequestId::as_str);
    overwrite(&mut entry.request_id, request_id);
    entry.status = response.status().as_u16();
    entry.error_code = response
        .extensions()
        .get::<AnsweredErrorCode>()
        .map(|code| code.0);
    entry.duration_ms = duration.as_micros() as f64 / 1000.0;
    overwrite_some(
        &mut entry.fault_rule,
        fault.map(|fault| fault.rule.as_str()),
    );
    entry.connection_dropped = fault.is_some_and(|fault| fault.dropped);
    (entry.request_body, entry.response_body) = (None, None);
}

type Shared = Arc<Mutex<Captured>>;

/// Copies what of the request's body passes, up to `limit` bytes, as the handler reads it:
/// the body is read once, by the handler, with its own limits and time-outs.
fn tap_request(req: &mut ServiceRequest, limit: usize) -> (Shared, Option<String>) {
    let captured = Shared::default();
    let tee = Tee {
        inner: req.take_payload(),
        captured: Arc::clone(&captured),
        limit,
    };
    req.set_payload(Payload::from(
        Box::pin(tee) as Pin<Box<dyn Stream<Item = _>>>
    ));
    (captured, content_type(req.headers()))
}

fn content_type(headers: &header::HeaderMap) -> Option<String> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// The answer's body as kept, when it is whole in memory (every answer but the streams').
fn tap_answer<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
    limit: usize,
) -> (ServiceResponse<EitherBody<B>>, Option<BodyView>) {
    let content_type = content_type(res.headers());
    let mut kept = None;
    let res = res.map_body(|_, body| match body.try_into_bytes() {
        Ok(bytes) => {
            let shown = &bytes[..bytes.len().min(limit)];
            kept = BodyView::of(shown, bytes.len(), content_type);
            EitherBody::right(BoxBody::new(bytes))
        }
        Err(body) => EitherBody::left(body),
    });
    (res, kept)
}

/// A request body that copies what passes through it.
struct Tee {
    inner: Payload,
    captured: Shared,
    limit: usize,
}

impl Stream for Tee {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = Pin::new(&mut self.inner).poll_next(cx);
        if let Poll::Ready(Some(Ok(chunk))) = &polled {
            let limit = self.limit;
            self.captured
                .lock()
                .expect("journal capture lock")
                .take(chunk, limit);
        }
        polled
    }
}

/// What the reader may see of an entry: the bodies are an `enterprise_admin`'s.
fn shown(entry: &Entry, reader: &Actor) -> Entry {
    match reader.role {
        Role::EnterpriseAdmin => entry.clone(),
        Role::Auditor => entry.without_bodies(),
    }
}

/// `GET /store/v1/requests`: the entries the filters keep, newest first, a page at a time.
pub async fn list(
    Reader(reader): Reader,
    journal: web::Data<Journal>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    #[derive(Serialize)]
    struct Requests {
        results: Vec<Entry>,
        result_count: usize,
        #[serde(skip_serializing_if = "Option::is_none")]
        cursor: Option<String>,
    }
    let pairs = query_pairs(&req)?;
    let params = Params::new(&pairs);
    let filter = Filter::parse(&params)?;
    let page = journal.page(&filter, cursor(&params)?, page_size(&params)?);
    Ok(json_response(&Requests {
        results: page.results.iter().map(|e| shown(e, &reader)).collect(),
        result_count: page.result_count,
        cursor: page.cursor.map(|id| id.to_string()),
    }))
}

/// `GET /store/v1/requests/stream[?after=N]` (or `Last-Event-ID: N`): each entry the filters
/// keep as it is answered, as a `request` event; from after entry `N`, or from now on.
pub async fn stream(
    Reader(reader): Reader,
    journal: web::Data<Journal>,
    stopping: web::Data<Stopping>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let pairs = query_pairs(&req)?;
    let filter = Filter::parse(&Params::new(&pairs))?;
    let start = resume_from(&req)?.unwrap_or_else(|| journal.last_id());
    let feed = Requests {
        latest: journal.subscribe(),
        journal: journal.into_inner(),
        filter,
        reader,
    };
    let opening = format!("requests after {start}");
    Ok(sse::response(feed, start, opening, &stopping))
}

/// The journal's entries, as they are kept.
struct Requests {
    journal: Arc<Journal>,
    latest: tokio::sync::watch::Receiver<u64>,
    filter: Filter,
    reader: Actor,
}

#[async_trait::async_trait]
impl Feed for Requests {
    async fn read(&mut self, after: u64) -> Vec<Event> {
        self.latest.mark_unchanged();
        self.journal
            .after(&self.filter, after, BATCH)
            .iter()
            .map(|entry| Event {
                id: entry.id,
                name: "request",
                data: serde_json::to_string(&shown(entry, &self.reader))
                    .expect("an entry serializes"),
            })
            .collect()
    }

    async fn wait(&mut self, idle: Duration) {
        let _ = tokio::time::timeout(idle, self.latest.changed()).await;
    }
}

/// `DELETE /store/v1/requests`: forgets every entry (ids go on).
pub async fn clear(_: Writer, journal: web::Data<Journal>) -> HttpResponse {
    journal.clear();
    empty_response()
}
