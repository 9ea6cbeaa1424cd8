//! The events stream (the README's "Events"): `GET /store/v1/events` streams every committed
//! change, and every reset, restore and import, in commit order, as Server-Sent Events, from
//! a given position, so that a test suite (or the inspector page) waits on changes instead of
//! polling, and a reconnecting reader misses none.

use std::sync::Arc;
use std::time::Duration;

use actix_web::{web, HttpRequest, HttpResponse};

use super::auth::Reader;
use super::pages::query_pairs;
use super::sse::{self, Event, Feed, Stopping};
use super::ApiError;
use crate::domain::paging::Params;
use crate::domain::FieldError;
use crate::storage::Store;

pub const EVENTS_PATH: &str = "/store/v1/events";

/// How often an idle stream asks the store for new changes.
const POLL: Duration = Duration::from_millis(100);
/// The most changes one read of the store answers.
const BATCH: u32 = 500;

/// `GET /store/v1/events[?after=N]` (or `Last-Event-ID: N`): the changes committed after
/// position `N`; without one, those committed from now on.
pub async fn events(
    _: Reader,
    store: web::Data<dyn Store>,
    stopping: web::Data<Stopping>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let start = match resume_from(&req)? {
        Some(position) => position,
        None => store.last_change().await?.max(0) as u64,
    };
    let feed = Changes {
        store: store.into_inner(),
    };
    let opening = format!("changes after position {start}");
    Ok(sse::response(feed, start, opening, &stopping))
}

/// Where a reader asks to go on from: `?after=N`, else a `Last-Event-ID: N` header (as a
/// browser's `EventSource` sends when it reconnects); `None` for from now on.
pub fn resume_from(req: &HttpRequest) -> Result<Option<u64>, ApiError> {
    let pairs = query_pairs(req)?;
    let resumed = req
        .headers()
        .get("last-event-id")
        .map(|value| position(value.to_str().unwrap_or("-"), "Last-Event-ID"))
        .transpose()?;
    let after = Params::new(&pairs)
        .get("after")
        .map(|value| position(value, "after"))
        .transpose()?;
    Ok(after.or(resumed))
}

/// A position: a whole number, 0 or more.
fn position(text: &str, name: &str) -> Result<u64, FieldError> {
    text.parse::<u64>()
        .ok()
        .filter(|position| i64::try_from(*position).is_ok())
        .ok_or_else(|| FieldError::new(name, "must be a position: a whole number, 0 or more"))
}

/// The store's events, read by polling it.
struct Changes {
    store: Arc<dyn Store>,
}

#[async_trait::async_trait]
impl Feed for Changes {
    async fn read(&mut self, after: u64) -> Vec<Event> {
        match self.store.changes(after as i64, BATCH).await {
            Ok(changes) => changes
                .into_iter()
                .map(|event| Event {
                    id: event.position() as u64,
                    name: event.name(),
                    data: event.data(),
                })
                .collect(),
            // The store heals by itself: the stream waits and reads again.
            Err(error) => {
                tracing::warn!(%error, "events: the store could not be read");
                Vec::new()
            }
        }
    }

    async fn wait(&mut self, idle: Duration) {
        tokio::time::sleep(POLL.min(idle)).await;
    }
}
