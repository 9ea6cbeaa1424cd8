//! The inspector (the README's "The inspector"): a page served by the binary at `/store/ui/`
//! that shows the store's state, its history and its runs, live, and drives its test
//! controls. The page is static (compiled in from `ui/`); everything it shows or changes
//! goes through the API, with the user's own session, as any client's requests do. The few
//! reads it needs that no other API had are here: who the user is, a tree node's
//! collections, which objects have anything below them, and the deterministic mode's
//! settings.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use serde_json::json;

use super::auth::Reader;
use super::landing::UI_PATH;
use super::pages::query_pairs;
use super::responses::json_response;
use super::ApiError;
use crate::auth::Role;
use crate::determinism::{ClockSetting, DeterminismSettings};
use crate::domain::hierarchy::{child_place, ChildPlace};
use crate::domain::paging::Params;
use crate::domain::{FieldError, ObjectPath};

type Store = web::Data<dyn crate::storage::Store>;

/// The page's files, compiled in: name, media type, content.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "",
        "text/html; charset=utf-8",
        include_str!("../../ui/index.html"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../ui/app.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../../ui/app.css"),
    ),
];

/// The most children a tree node's counts read: past it, a count says "at least".
const COUNT_CAP: u32 = 100_000;

/// `GET /store/ui/` and its files.
pub async fn asset(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let name = req.path().strip_prefix(UI_PATH).unwrap_or_default();
    match ASSETS.iter().find(|(file, _, _)| *file == name) {
        Some((_, media_type, content)) => Ok(HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, *media_type))
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .insert_header(("X-Content-Type-Options", "nosniff"))
            .insert_header((
                "Content-Security-Policy",
                "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
            ))
            .body(*content)),
        None => Err(ApiError::uri_not_found(req.path())),
    }
}

/// `GET /store/v1/whoami`: the caller's name and role, and whether it may change anything.
pub async fn whoami(Reader(actor): Reader) -> HttpResponse {
    json_response(&json!({
        "name": actor.name,
        "role": actor.role.as_str(),
        "may_write": actor.role == Role::EnterpriseAdmin,
    }))
}

/// One collection (or singleton) below a tree node.
#[derive(Serialize)]
struct Collection {
    resource_type: String,
    parent_path: String,
    /// How many objects it holds; `at_least` when the node holds more than were counted.
    count: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    collection: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    object: Option<String>,
}

/// `GET /store/v1/tree?parent=P`: what hangs from the object at `P` (or, without `P`, from
/// the roots), by type: each type's count and where its objects are listed (the catalog's
/// own list, paged as every list is) or, for a singleton, its path.
pub async fn tree(_: Reader, store: Store, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let pairs = query_pairs(&req)?;
    let parent = Params::new(&pairs).get("parent").unwrap_or("");
    if !parent.is_empty() && ObjectPath::from_stored(parent).is_err() {
        return Err(FieldError::new("parent", format!("{parent:?} is not a policy path")).into());
    }
    let counts = store.child_counts(parent, COUNT_CAP).await?;
    let counted: i64 = counts.iter().map(|count| count.count).sum();
    let collections: Vec<Collection> = counts
        .into_iter()
        .filter_map(|count| {
            let place = child_place(&count.parent_path, &count.resource_type)?;
            let (collection, object) = match place {
                ChildPlace::Collection(path) => (Some(path), None),
                ChildPlace::Singleton(path) => (None, Some(path)),
            };
            Some(Collection {
                resource_type: count.resource_type,
                parent_path: count.parent_path,
                count: count.count,
                collection,
                object,
            })
        })
        .collect();
    Ok(json_response(&json!({
        "parent": parent,
        "collections": collections,
        "at_least": counted >= i64::from(COUNT_CAP),
    })))
}

/// The most paths one question of [`branches`] names: a page of a collection, and more.
const BRANCHES_CAP: usize = 200;

/// `GET /store/v1/tree/branches?path=P&path=Q...`: which of the objects at these paths have
/// anything below them (in the order asked), so that the tree offers to open those alone.
pub async fn branches(_: Reader, store: Store, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let pairs = query_pairs(&req)?;
    let paths: Vec<&str> = pairs
        .iter()
        .filter(|(name, _)| name == "path")
        .map(|(_, path)| path.as_str())
        .collect();
    if paths.len() > BRANCHES_CAP {
        let message = format!("names at most {BRANCHES_CAP} paths");
        return Err(FieldError::new("path", message).into());
    }
    let mut branches = Vec::new();
    for path in paths {
        if ObjectPath::from_stored(path).is_err() {
            return Err(FieldError::new("path", format!("{path:?} is not a policy path")).into());
        }
        if !store.child_counts(path, 1).await?.is_empty() {
            branches.push(path);
        }
    }
    Ok(json_response(&json!({ "branches": branches })))
}

/// `GET /store/v1/determinism`: the deterministic mode's settings, as configured.
pub async fn determinism(_: Reader, settings: web::Data<DeterminismSettings>) -> HttpResponse {
    let clock = match settings.clock {
        ClockSetting::System => json!("system"),
        ClockSetting::Virtual(start) => json!(start.to_rfc3339()),
    };
    json_response(&json!({
        "clock": clock,
        "clock_step_ms": settings.clock_step_ms,
        "seed": settings.seed,
        "deterministic": settings.clock != ClockSetting::System || settings.seed.is_some(),
    }))
}
