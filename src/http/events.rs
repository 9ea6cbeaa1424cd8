//! The events stream (the README's "Events"): `GET /store/v1/events` streams every committed
//! change, and every reset, restore and import, in commit order, as Server-Sent Events, from
//! a given position, so that a test suite (or the inspector page) waits on changes instead of
//! polling, and a reconnecting reader misses none.

use std::collections::VecDeque;
use std::time::Duration;

use actix_web::http::header;
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use futures_util::stream;
use tokio::sync::watch;

use super::auth::Reader;
use super::pages::query_pairs;
use super::ApiError;
use crate::domain::history::StoreEvent;
use crate::domain::paging::Params;
use crate::domain::FieldError;

type Store = web::Data<dyn crate::storage::Store>;

pub const EVENTS_PATH: &str = "/store/v1/events";

/// How often an idle stream asks the store for new changes.
const POLL: Duration = Duration::from_millis(100);
/// How often an idle stream says it is alive (an SSE comment), so that proxies and readers
/// with a time-out keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// The most changes one read of the store answers.
const BATCH: u32 = 500;

/// Set when the server stops: open streams end, so that stopping waits for none of them.
#[derive(Clone)]
pub struct Stopping(pub watch::Receiver<bool>);

/// `GET /store/v1/events[?after=N]` (or `Last-Event-ID: N`): the changes committed after
/// position `N`; without one, those committed from now on.
pub async fn events(
    _: Reader,
    store: Store,
    stopping: web::Data<Stopping>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let pairs = query_pairs(&req)?;
    let resumed = req
        .headers()
        .get("last-event-id")
        .map(|value| position(value.to_str().unwrap_or("-"), "Last-Event-ID"))
        .transpose()?;
    let after = Params::new(&pairs)
        .get("after")
        .map(|value| position(value, "after"))
        .transpose()?;
    let start = match after.or(resumed) {
        Some(position) => position,
        None => store.last_change().await?,
    };
    let state = Stream {
        store: store.into_inner(),
        stopping: stopping.0.clone(),
        position: start,
        pending: VecDeque::new(),
        idle: Duration::ZERO,
        opened: false,
    };
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(stream::unfold(state, Stream::next)))
}

/// A position: a whole number, 0 or more.
fn position(text: &str, name: &str) -> Result<i64, FieldError> {
    text.parse::<i64>()
        .ok()
        .filter(|position| *position >= 0)
        .ok_or_else(|| FieldError::new(name, "must be a position: a whole number, 0 or more"))
}

struct Stream {
    store: std::sync::Arc<dyn crate::storage::Store>,
    stopping: watch::Receiver<bool>,
    /// The last position sent.
    position: i64,
    /// Read, not sent yet.
    pending: VecDeque<StoreEvent>,
    idle: Duration,
    opened: bool,
}

impl Stream {
    /// The next chunk: the stream's opening comment, an event, a keep-alive; `None` once the
    /// server stops.
    async fn next(mut self) -> Option<(Result<Bytes, actix_web::Error>, Self)> {
        if !self.opened {
            self.opened = true;
            let opening = format!(
                ": changes after position {}\nretry: 1000\n\n",
                self.position
            );
            return Some((Ok(Bytes::from(opening)), self));
        }
        loop {
            if *self.stopping.borrow() {
                return None;
            }
            if let Some(event) = self.pending.pop_front() {
                self.position = event.position();
                let chunk = format!(
                    "id: {}\nevent: {}\ndata: {}\n\n",
                    self.position,
                    event.name(),
                    event.data()
                );
                return Some((Ok(Bytes::from(chunk)), self));
            }
            match self.store.changes(self.position, BATCH).await {
                Ok(changes) if !changes.is_empty() => {
                    self.idle = Duration::ZERO;
                    self.pending = changes.into();
                    continue;
                }
                Ok(_) => {}
                // The store heals by itself: the stream waits and reads again.
                Err(error) => tracing::warn!(%error, "events: the store could not be read"),
            }
            if self.idle >= KEEP_ALIVE {
                self.idle = Duration::ZERO;
                return Some((Ok(Bytes::from_static(b": alive\n\n")), self));
            }
            tokio::select! {
                _ = tokio::time::sleep(POLL) => self.idle += POLL,
                _ = self.stopping.changed() => return None,
            }
        }
    }
}
