//! A traceflow's actions and results over HTTP, as NSX serves them: `?action=retrace`,
//! `.../{id}/status` and `.../{id}/observations` (the README's "Traceflow results"); and the
//! extension's scripts that decide them, `/store/v1/traceflows/{id}/result`, and its earlier
//! runs, `/store/v1/traceflows/{id}/runs`.

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use futures_util::future::LocalBoxFuture;
use serde::Serialize;

use std::sync::Arc;

use super::path_of;
use super::results::{Observation, RunResult, Script, TraceflowStatus};
use super::run::Run;
use super::side::{reads, Runs};
use crate::domain::{ObjectId, PolicyObject};
use crate::http::auth::{Reader, Writer};
use crate::http::extractors::{JsonBody, PathId};
use crate::http::objects::object_response;
use crate::http::pages::{query_pairs, require_action};
use crate::http::responses::{empty_response, json_response};
use crate::http::{ApiError, STORE_API};
use crate::storage::side::answered;
use crate::storage::Store;

type Stores = web::Data<dyn Store>;

/// The traceflows' runs: what starts them.
type Traceflows = web::Data<Runs>;

/// The existing traceflow of the route's `{id}` and its current run (`None`: it has none
/// yet), for a reader, after the query's one parameter, `enforcement_point_path`, accepted
/// and ignored: there is one enforcement point.
pub struct CurrentRun {
    id: ObjectId,
    store: Stores,
    run: Option<Run>,
}

impl FromRequest for CurrentRun {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let asked = Reader::from_request(req, payload)
            .into_inner()
            .and_then(|_| PathId::from_request(req, payload).into_inner())
            .and_then(|PathId(id)| query_pairs(req).map(|_| id));
        let store = req.app_data::<Stores>().cloned();
        Box::pin(async move {
            let id = asked?;
            let store = store.expect("the store is registered");
            let path = path_of(&id);
            if store.get(&path).await?.is_none() {
                return Err(ApiError::object_not_found(path.as_str()));
            }
            let run = reads::current_run(store.get_ref(), &id).await?;
            Ok(CurrentRun { id, store, run })
        })
    }
}

/// POST `?action=retrace`: starts a new run of the traceflow, whose result replaces the
/// last run's; the config and its `_revision` stay as they are. Answers the object.
pub async fn retrace(
    _: Reader,
    store: Stores,
    runs: Traceflows,
    req: HttpRequest,
    PathId(id): PathId,
) -> Result<HttpResponse, ApiError> {
    require_action(&req, "retrace")?;
    let retraced = store.side_task(runs.retrace(&id)).await?;
    match answered::<Option<Arc<PolicyObject>>>(retraced)? {
        Some(object) => Ok(object_response(&object)),
        None => Err(ApiError::object_not_found(path_of(&id).as_str())),
    }
}

/// The current run's result, if it has appeared by now.
fn visible(run: &Option<Run>) -> Option<&RunResult> {
    let now = chrono::Utc::now().timestamp_millis();
    run.as_ref().and_then(|run| run.visible(now))
}

/// AntreaTraceflowStatus; `{}` while the current run has no result yet.
pub async fn status(CurrentRun { run, .. }: CurrentRun) -> Result<HttpResponse, ApiError> {
    let status: Option<&TraceflowStatus> = visible(&run).map(|result| &result.status);
    match status {
        Some(status) => Ok(json_response(status)),
        None => Ok(json_response(&serde_json::json!({}))),
    }
}

/// AntreaTraceflowObservationListResult, not paged; empty while the current run has no
/// result yet.
pub async fn observations(CurrentRun { run, .. }: CurrentRun) -> Result<HttpResponse, ApiError> {
    #[derive(Serialize)]
    struct ObservationList<'a> {
        results: &'a [Observation],
        result_count: usize,
    }
    let results = visible(&run).map_or(&[][..], |result| &result.observations);
    Ok(json_response(&ObservationList {
        results,
        result_count: results.len(),
    }))
}

/// Where the script of `id` is served.
fn script_path(id: &ObjectId) -> String {
    format!("{STORE_API}/traceflows/{id}/result")
}

/// PUT: sets the script; answers it with its defaults filled in.
pub async fn put_script(
    _: Writer,
    store: Stores,
    runs: Traceflows,
    PathId(id): PathId,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let script = Script::parse(&body)?;
    let answer = json_response(&script);
    store.side_task(runs.set_script(&id, script)).await?;
    Ok(answer)
}

/// GET: the script; 404 when none is set.
pub async fn get_script(
    _: Reader,
    store: Stores,
    PathId(id): PathId,
) -> Result<HttpResponse, ApiError> {
    match reads::script(store.get_ref(), &id).await? {
        Some(script) => Ok(json_response(&script)),
        None => Err(ApiError::object_not_found(&script_path(&id))),
    }
}

/// DELETE: idempotent.
pub async fn delete_script(
    _: Writer,
    store: Stores,
    runs: Traceflows,
    PathId(id): PathId,
) -> Result<HttpResponse, ApiError> {
    store.side_task(runs.delete_script(&id)).await?;
    Ok(empty_response())
}

/// `GET /store/v1/traceflows/{id}/runs`: the runs later ones replaced, newest first, each
/// with the result it had (`{}` and no observations where it was replaced before its result
/// appeared); and, in `current`, the current run's number, start and whether a script
/// decides it.
pub async fn earlier_runs(current: CurrentRun) -> Result<HttpResponse, ApiError> {
    #[derive(Serialize)]
    struct EarlierRun<'a> {
        run: i64,
        started_at: i64,
        status: serde_json::Value,
        observations: &'a [Observation],
    }
    let CurrentRun { id, store, run } = current;
    let scripted = reads::script(store.get_ref(), &id).await?.is_some();
    let runs = reads::earlier_runs(store.get_ref(), &id).await?;
    let now = chrono::Utc::now().timestamp_millis();
    let results: Vec<EarlierRun<'_>> = runs
        .iter()
        .map(|run| {
            let result = run.visible(now);
            EarlierRun {
                run: run.number,
                started_at: run.started,
                status: result.map_or(serde_json::json!({}), |result| {
                    serde_json::to_value(&result.status).expect("a status serializes")
                }),
                observations: result.map_or(&[], |result| &result.observations),
            }
        })
        .collect();
    let mut answer = serde_json::json!({
        "results": results,
        "result_count": results.len(),
    });
    if let Some(current) = run {
        answer["current"] = serde_json::json!({
            "run": current.number,
            "started_at": current.started,
            "scripted": scripted,
        });
    }
    Ok(json_response(&answer))
}
