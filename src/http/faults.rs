//! Fault and latency injection (the README's "Fault and latency injection"): the rules a
//! test harness sets, and the middleware that applies them to every request but its own.
//!
//! Rules live in memory, checked in creation order; the first that matches and injects
//! wins. Chance comes from the seeded generator of deterministic mode, so that two servers
//! with one seed inject the same pattern.

use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Extensions, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpResponse};
use rand_chacha::rand_core::RngCore;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::auth::{Reader, Writer};
use super::extractors::JsonBody;
use super::responses::{empty_response, json_response};
use super::{ApiError, STORE_API};
use crate::auth::Actor;
use crate::domain::fault::{FaultApplied, FaultRule, FaultSpec, Request, When};
use crate::telemetry::metrics;

/// Where the rules are managed; requests to it and below (and to the events stream and the
/// request journal, which a harness must be able to trust) never match a rule, so that a
/// harness can always clear them.
pub const FAULTS_PATH: &str = "/store/v1/faults";

/// A rule in force, with its counts.
struct Active {
    id: String,
    rule: FaultRule,
    /// Requests it matched so far.
    matched: u64,
    /// Injections so far.
    hits: u64,
}

/// The rules in force.
pub struct Faults {
    state: Mutex<State>,
    /// Whether any rule is in force: what a request without one asks, with no lock.
    any: AtomicBool,
    chance: Mutex<ChaCha8Rng>,
}

struct State {
    rules: Vec<Active>,
    /// The number of the next rule's id.
    next: u64,
}

/// What one request gets.
struct Injection {
    rule: String,
    latency: Option<Duration>,
    error: Option<ApiError>,
    drop_connection: bool,
    when: When,
}

/// A rule as the API answers it: the rule, its id and its hits.
#[derive(Serialize)]
struct RuleView<'a> {
    id: &'a str,
    hits: u64,
    #[serde(flatten)]
    spec: &'a FaultSpec,
}

impl Faults {
    /// The rules of the configuration, in force from the start.
    pub fn new(rules: Vec<FaultRule>, chance: ChaCha8Rng) -> Self {
        let faults = Self {
            state: Mutex::new(State {
                rules: Vec::new(),
                next: 1,
            }),
            any: AtomicBool::new(false),
            chance: Mutex::new(chance),
        };
        for rule in rules {
            faults.add(rule);
        }
        faults
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("fault rules lock")
    }

    fn add(&self, rule: FaultRule) -> String {
        let mut state = self.state();
        let id = format!("fault-{}", state.next);
        state.next += 1;
        state.rules.push(Active {
            id: id.clone(),
            rule,
            matched: 0,
            hits: 0,
        });
        self.any.store(true, Ordering::Release);
        id
    }

    /// Removes the rule `id`; false when there is none.
    fn remove(&self, id: &str) -> bool {
        let mut state = self.state();
        let before = state.rules.len();
        state.rules.retain(|active| active.id != id);
        self.any.store(!state.rules.is_empty(), Ordering::Release);
        state.rules.len() < before
    }

    fn clear(&self) {
        let mut state = self.state();
        state.rules.clear();
        self.any.store(false, Ordering::Release);
    }

    /// A draw in `[0, 1)`.
    fn draw(&self) -> f64 {
        let bits = self.chance.lock().expect("fault chance lock").next_u64() >> 11;
        bits as f64 / (1u64 << 53) as f64
    }

    /// The injection for `request`, if a rule gives one; counts what matched.
    fn decide(&self, request: &Request<'_>) -> Option<Injection> {
        let mut state = self.state();
        for active in state.rules.iter_mut() {
            if !active.rule.matches(request) {
                continue;
            }
            active.matched += 1;
            if !active
                .rule
                .injects(active.matched, active.hits, self.draw())
            {
                continue;
            }
            active.hits += 1;
            let spec = &active.rule.spec;
            return Some(Injection {
                rule: active.id.clone(),
                latency: spec
                    .latency_ms
                    .map(|latency| Duration::from_millis(latency.millis(self.draw()))),
                error: spec
                    .error
                    .as_ref()
                    .map(|error| ApiError::injected(&active.id, error)),
                drop_connection: spec.drop_connection,
                when: spec.when,
            });
        }
        None
    }

    fn views<T>(&self, answer: impl FnOnce(Vec<RuleView<'_>>) -> T) -> T {
        let state = self.state();
        let views = state
            .rules
            .iter()
            .map(|active| RuleView {
                id: &active.id,
                hits: active.hits,
                spec: &active.rule.spec,
            })
            .collect();
        answer(views)
    }
}

/// The socket of a request's connection, kept at connect so that a rule can drop it.
#[derive(Clone, Copy)]
pub struct ConnectionSocket(RawFd);

/// For `HttpServer::on_connect`: remembers the connection's socket.
pub fn remember_socket(connection: &dyn std::any::Any, extensions: &mut Extensions) {
    if let Some(tcp) = connection.downcast_ref::<actix_web::rt::net::TcpStream>() {
        extensions.insert(ConnectionSocket(tcp.as_raw_fd()));
    } else if let Some(tls) = connection
        .downcast_ref::<actix_tls::accept::rustls_0_23::TlsStream<actix_web::rt::net::TcpStream>>()
    {
        extensions.insert(ConnectionSocket(tls.get_ref().0.as_raw_fd()));
    }
}

/// Middleware: applies the first rule that matches and injects. Runs after authentication,
/// so that a rule can match the user.
pub async fn inject<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let faults = super::registered::<Faults>(&req);
    let exempt = [
        FAULTS_PATH,
        super::events::EVENTS_PATH,
        super::journal::REQUESTS_PATH,
    ];
    if !faults.any.load(Ordering::Acquire)
        || exempt.iter().any(|exempt| req.path().starts_with(exempt))
    {
        return super::pass_on(req, next).await;
    }
    let user = req
        .extensions()
        .get::<Actor>()
        .map(|actor| actor.name.clone());
    let request = Request {
        method: req.method().as_str(),
        path: req.path(),
        user: user.as_deref(),
    };
    let Some(injection) = faults.decide(&request) else {
        return super::pass_on(req, next).await;
    };
    tracing::warn!(
        rule = injection.rule,
        when = ?injection.when,
        latency_ms = injection.latency.map(|l| l.as_millis() as u64),
        error = injection.error.as_ref().map(ToString::to_string),
        drop_connection = injection.drop_connection,
        "injecting a fault"
    );
    metrics::fault_injected(&injection.rule);
    req.extensions_mut().insert(FaultApplied {
        rule: injection.rule.clone(),
        dropped: injection.drop_connection,
    });
    let socket = req.conn_data::<ConnectionSocket>().copied();
    let answer = |req: actix_web::HttpRequest, injection: Injection| {
        if injection.drop_connection {
            drop_connection(socket);
        }
        let response = match injection.error {
            Some(error) => HttpResponse::from_error(error),
            // A dropped connection answers nothing the client could read.
            None => empty_response(),
        };
        ServiceResponse::new(req, response).map_into_right_body()
    };
    match injection.when {
        When::Before => {
            if let Some(latency) = injection.latency {
                tokio::time::sleep(latency).await;
            }
            if injection.error.is_none() && !injection.drop_connection {
                return super::pass_on(req, next).await;
            }
            let (req, _) = req.into_parts();
            Ok(answer(req, injection))
        }
        When::After => {
            let handled = next.call(req).await?;
            if let Some(latency) = injection.latency {
                tokio::time::sleep(latency).await;
            }
            if injection.error.is_none() && !injection.drop_connection {
                return Ok(handled.map_into_left_body());
            }
            let (req, _) = handled.into_parts();
            Ok(answer(req, injection))
        }
    }
}

/// Closes the connection under the request: the client reads no answer.
fn drop_connection(socket: Option<ConnectionSocket>) {
    if let Some(ConnectionSocket(fd)) = socket {
        // SAFETY: `fd` is the open socket of the connection this request arrived on, alive
        // while the request is handled; shutdown only ends its traffic, it frees nothing.
        unsafe {
            libc::shutdown(fd, libc::SHUT_RDWR);
        }
    }
}

/// `POST /store/v1/faults`: adds a rule; answers it with its id and `hits: 0`.
pub async fn create(
    _: Writer,
    faults: web::Data<Faults>,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let rule = FaultRule::parse(&body)?;
    let id = faults.add(rule);
    Ok(faults.views(|views| {
        let view = views.iter().find(|view| view.id == id).expect("just added");
        json_response(view)
    }))
}

/// `GET /store/v1/faults`: every rule, in creation order, with its hits.
pub async fn list(_: Reader, faults: web::Data<Faults>) -> HttpResponse {
    #[derive(Serialize)]
    struct Rules<'a> {
        result_count: usize,
        results: Vec<RuleView<'a>>,
    }
    faults.views(|results| {
        json_response(&Rules {
            result_count: results.len(),
            results,
        })
    })
}

/// `DELETE /store/v1/faults/{id}`: 404 when there is no such rule.
pub async fn delete(
    _: Writer,
    faults: web::Data<Faults>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    if !faults.remove(&id) {
        return Err(ApiError::object_not_found(&format!(
            "{STORE_API}/faults/{id}"
        )));
    }
    Ok(empty_response())
}

/// `DELETE /store/v1/faults`: every rule is gone.
pub async fn delete_all(_: Writer, faults: web::Data<Faults>) -> HttpResponse {
    faults.clear();
    empty_response()
}
