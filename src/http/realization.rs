//! Realized state (the README's "Realized state"): the endpoints clients poll after a write
//! (NSX's), and the scripts that shape their answers per path (the extension's).

use std::collections::HashMap;
use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use serde_json::json;

use super::auth::{Reader, Writer};
use super::extractors::JsonBody;
use super::pages::{query_pairs, require_action};
use super::responses::{empty_response, json_response};
use super::ApiError;
use crate::domain::realization::{intent_of, Realization, RealizationScript};
use crate::domain::{FieldError, ObjectPath, PolicyObject};

type Store = web::Data<dyn crate::storage::Store>;

/// Where the extension keeps the scripts, by `intent_path`.
pub const SCRIPTS_PATH: &str = "/store/v1/realized-state";

/// The `intent_path` query parameter: the path of an object the catalog serves.
pub struct IntentPath(ObjectPath);

impl FromRequest for IntentPath {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(intent_path(req).map(IntentPath))
    }
}

fn intent_path(req: &HttpRequest) -> Result<ObjectPath, ApiError> {
    const NAME: &str = "intent_path";
    let pairs = query_pairs(req)?;
    let value = pairs
        .iter()
        .find(|(key, _)| key == NAME)
        .map(|(_, value)| value.as_str())
        .ok_or_else(|| FieldError::new(NAME, "required property not present"))?;
    ObjectPath::from_stored(value)
        .map_err(|_| FieldError::new(NAME, format!("{value:?} is not a policy path")).into())
}

/// The time realizations are judged at: now.
fn now() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The object at `path` and how it is realized now; `None` when nothing is stored there.
async fn realized(
    store: &Store,
    path: &ObjectPath,
) -> Result<Option<(std::sync::Arc<PolicyObject>, Realization)>, ApiError> {
    let Some(object) = store.get(path).await? else {
        return Ok(None);
    };
    let script = store.realization_script(path).await?;
    Ok(Some((object, Realization::of(script.as_ref(), now()))))
}

/// Every realized entity of `objects`, each realized as its script says (the search finds
/// them: nsxlib's `search_resource_by_realized_id`).
pub async fn every_entity(
    store: &Store,
    objects: &[PolicyObject],
) -> Result<Vec<serde_json::Value>, ApiError> {
    let scripts: HashMap<String, RealizationScript> =
        store.realization_scripts().await?.into_iter().collect();
    let now = now();
    Ok(objects
        .iter()
        .flat_map(|object| Realization::of(scripts.get(object.path.as_str()), now).entities(object))
        .collect())
}

/// What `render` makes of the object at `path` and its realization, as the answer; while
/// nothing is stored there, NSX's 404 for `asked` (the path the client named).
async fn realized_answer<T: serde::Serialize>(
    store: &Store,
    path: &ObjectPath,
    asked: &str,
    render: impl FnOnce(&PolicyObject, &Realization) -> T,
) -> Result<HttpResponse, ApiError> {
    match realized(store, path).await? {
        Some((object, realization)) => Ok(json_response(&render(&object, &realization))),
        None => Err(ApiError::object_not_found(asked)),
    }
}

/// The answer of a sub-resource through which NSX reports an object's realization
/// (`<object>/state`, `<object>/status`): what `render` makes of the object at the request's
/// path without its last segment and of how it is realized; NSX's 404 naming the object
/// while nothing is stored there.
pub async fn sub_resource_answer<T: serde::Serialize>(
    store: &Store,
    req: &HttpRequest,
    render: impl FnOnce(&PolicyObject, &Realization) -> T,
) -> Result<HttpResponse, ApiError> {
    let asked = req.path().trim_start_matches(super::POLICY_API);
    let object = asked.rsplit_once('/').map_or(asked, |(object, _)| object);
    let path = ObjectPath::from_stored(object).map_err(|_| ApiError::object_not_found(object))?;
    realized_answer(store, &path, object, render).await
}

/// GenericPolicyRealizedResourceListResult: the realized entity of `intent_path`, or none
/// while nothing is stored there.
pub async fn realized_entities(
    _: Reader,
    store: Store,
    IntentPath(path): IntentPath,
) -> Result<HttpResponse, ApiError> {
    let results: Vec<_> = realized(&store, &path)
        .await?
        .map(|(object, realization)| realization.entities(&object))
        .unwrap_or_default();
    Ok(json_response(
        &json!({"results": results, "result_count": results.len()}),
    ))
}

/// GenericPolicyRealizedResource: one realized entity by its own path.
pub async fn realized_entity(
    _: Reader,
    store: Store,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let pairs = query_pairs(&req)?;
    let realized_path = pairs
        .iter()
        .find(|(key, _)| key == "realized_path")
        .map(|(_, value)| value.as_str())
        .ok_or_else(|| FieldError::new("realized_path", "required property not present"))?;
    // An entity's path is its intent's realized path, or one below it (a VPC's
    // `.../gateway-interface`).
    let intent =
        intent_of(realized_path).ok_or_else(|| ApiError::object_not_found(realized_path))?;
    let path = ObjectPath::from_stored(intent)
        .or_else(|_| ObjectPath::from_stored(intent.rsplit_once('/').map_or("", |(up, _)| up)))
        .map_err(|_| ApiError::object_not_found(realized_path))?;
    realized_answer(&store, &path, realized_path, |object, realization| {
        let mut entities = realization.entities(object);
        let at = entities
            .iter()
            .position(|entity| entity["path"] == realized_path)
            .unwrap_or(0);
        entities.swap_remove(at)
    })
    .await
}

/// `POST ...?intent_path=P&action=refresh`: NSX reports the intent's realization again. The
/// store's entities are computed whenever they are read, so there is nothing to refresh:
/// 204, as nsxlib's `refresh_realized_state` expects.
pub async fn refresh(
    _: Writer,
    req: HttpRequest,
    IntentPath(_): IntentPath,
) -> Result<HttpResponse, ApiError> {
    require_action(&req, "refresh")?;
    Ok(HttpResponse::NoContent().finish())
}

/// ConsolidatedRealizedStatus of `intent_path`.
pub async fn status(
    _: Reader,
    store: Store,
    IntentPath(path): IntentPath,
) -> Result<HttpResponse, ApiError> {
    realized_answer(&store, &path, path.as_str(), |object, realization| {
        realization.status(object)
    })
    .await
}

/// PUT: sets the script of `intent_path`; answers it, its defaults filled in.
pub async fn set_script(
    _: Writer,
    store: Store,
    IntentPath(path): IntentPath,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let script = RealizationScript::parse(&body, chrono::Utc::now().timestamp_millis())?;
    store.set_realization_script(path, script.clone()).await?;
    Ok(json_response(&script.answer()))
}

/// GET: the script of `intent_path`; 404 when none.
pub async fn read_script(
    _: Reader,
    store: Store,
    IntentPath(path): IntentPath,
) -> Result<HttpResponse, ApiError> {
    match store.realization_script(&path).await? {
        Some(script) => Ok(json_response(&script.answer())),
        None => Err(ApiError::object_not_found(&format!(
            "{SCRIPTS_PATH}?intent_path={path}"
        ))),
    }
}

/// DELETE: the object is realized once written again; idempotent.
pub async fn delete_script(
    _: Writer,
    store: Store,
    IntentPath(path): IntentPath,
) -> Result<HttpResponse, ApiError> {
    store.delete_realization_script(path).await?;
    Ok(empty_response())
}
