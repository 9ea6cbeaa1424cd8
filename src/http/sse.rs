//! Server-Sent Events, as the store's two streams send them (the events stream and the
//! request journal's): an opening comment that says where the stream starts, then each
//! event as `id`, `event` and one `data` line, a keep-alive comment while idle, and the end
//! when the server stops. A feed says what comes next and how to wait for more.
//!
//! The framing is a dozen lines over `futures_util::stream::unfold`; the crates that offer
//! it (`actix-web-lab`'s `sse`) bring a pre-1.0 crate of experiments for what these streams
//! need, and neither the resuming from a position nor the waiting would be theirs.

use std::collections::VecDeque;
use std::time::Duration;

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::HttpResponse;
use futures_util::stream;
use tokio::sync::watch;

/// How often an idle stream says it is alive (an SSE comment), so that proxies and readers
/// with a time-out keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Set when the server stops: open streams end, so that stopping waits for none of them.
#[derive(Clone)]
pub struct Stopping(pub watch::Receiver<bool>);

/// One event: its position (the id a reader resumes from), its name and its data (one line
/// of JSON).
pub struct Event {
    pub id: u64,
    pub name: &'static str,
    pub data: String,
}

/// Where a stream's events come from.
#[async_trait::async_trait]
pub trait Feed: Send + 'static {
    /// The events after position `after`, oldest first; none while nothing new is there.
    async fn read(&mut self, after: u64) -> Vec<Event>;

    /// Waits a while for more: returns when something new may be there, or after at most
    /// `idle` (the stream then reads again, or says it is alive).
    async fn wait(&mut self, idle: Duration);
}

/// The answer that streams `feed` from after position `start`, beginning with the comment
/// `opening`, until the server stops.
pub fn response(feed: impl Feed, start: u64, opening: String, stopping: &Stopping) -> HttpResponse {
    let state = State {
        feed,
        stopping: stopping.0.clone(),
        position: start,
        pending: VecDeque::new(),
        idle: Duration::ZERO,
        opening: Some(opening),
    };
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(stream::unfold(state, State::next))
}

struct State<F> {
    feed: F,
    stopping: watch::Receiver<bool>,
    /// The last position sent.
    position: u64,
    /// Read, not sent yet.
    pending: VecDeque<Event>,
    /// How long the stream has sent nothing.
    idle: Duration,
    /// The opening comment, until it is sent.
    opening: Option<String>,
}

impl<F: Feed> State<F> {
    /// The next chunk: the opening comment, an event, a keep-alive; `None` once the server
    /// stops.
    async fn next(mut self) -> Option<(Result<Bytes, actix_web::Error>, Self)> {
        if let Some(opening) = self.opening.take() {
            let chunk = format!(": {opening}\nretry: 1000\n\n");
            return Some((Ok(Bytes::from(chunk)), self));
        }
        loop {
            if *self.stopping.borrow() {
                return None;
            }
            if let Some(event) = self.pending.pop_front() {
                self.position = event.id;
                self.idle = Duration::ZERO;
                let chunk = format!(
                    "id: {}\nevent: {}\ndata: {}\n\n",
                    event.id, event.name, event.data
                );
                return Some((Ok(Bytes::from(chunk)), self));
            }
            self.pending = self.feed.read(self.position).await.into();
            if !self.pending.is_empty() {
                continue;
            }
            if self.idle >= KEEP_ALIVE {
                self.idle = Duration::ZERO;
                return Some((Ok(Bytes::from_static(b": alive\n\n")), self));
            }
            let began = tokio::time::Instant::now();
            tokio::select! {
                _ = self.feed.wait(KEEP_ALIVE - self.idle) => self.idle += began.elapsed(),
                _ = self.stopping.changed() => return None,
            }
        }
    }
}
