//! Handlers for every object path of the catalog (the README's "Every Policy type"): GET,
//! PUT, PATCH and DELETE of `/policy/api/v1/<path>` wherever the catalog serves an object,
//! with the methods the SDK has for it. A kind may register these handlers at routes of its
//! own too (the traceflow kind does, with its actions and results). The `Infra` roots (`/infra`, a project's `/infra`) are no objects: their GET, PUT and PATCH
//! are the Hierarchical API's ([`super::hierarchy`]).

use actix_web::dev::Payload;
use actix_web::http::header::ContentType;
use actix_web::http::Method;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use futures_util::future::{ready, Ready};
use percent_encoding::percent_decode_str;

use serde::Serialize;
use serde_json::value::RawValue;

use super::auth::{Reader, Writer};
use super::extractors::{kinds, JsonBody, TreeBody};
use super::hierarchy;
use super::pages::{query_pairs, PageBody};
use super::responses::{empty_response, json_response};
use super::{ApiError, POLICY_API};
use crate::domain::catalog::{catalog, Methods, RouteId};
use crate::domain::embedded;
use crate::domain::hierarchy::Root;
use crate::domain::list::{Collection, ListQuery};
use crate::domain::paging::{Page, Params};
use crate::domain::{json_object, Change, Document, FieldError, ObjectPath, PolicyObject};

type Store = web::Data<dyn crate::storage::Store>;

/// The route template every catalog path matches; the handlers locate the object.
pub const CATALOG_ROUTE: &str = "/policy/api/v1/{path:.*}";

/// The object path of the request: its segments below `/policy/api/v1`, read from the raw
/// URI and percent-decoded one by one (so that an encoded `/` stays inside its segment, and
/// is refused as part of an id), located in the catalog. A path the catalog does not serve
/// is 404; a method its object does not have, 405. Where an id could take a collection's
/// name (`/infra/segments/service-segments`), the collection wins, as literal segments do,
/// and a collection has no method but GET; a GET of a path that is both an object and a
/// collection lists.
pub struct CatalogPath(pub ObjectPath);

impl FromRequest for CatalogPath {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(segments(req).and_then(|segments| catalog_path(req, &segments)))
    }
}

/// The [`CatalogPath`] of `req`, whose path's segments are `segments`.
fn catalog_path(req: &HttpRequest, segments: &[String]) -> Result<CatalogPath, ApiError> {
    let not_allowed = || ApiError::method_not_allowed(req.method().as_str(), req.path());
    let path = locate_segments(req, segments)?;
    let route = catalog().route(path.route());
    // An id in place of a collection's name: the collection wins.
    if route.is_collection_member() && catalog().locate_collection(segments).is_some() {
        return Err(not_allowed());
    }
    if allows(route.methods, req.method()) {
        Ok(CatalogPath(path))
    } else {
        Err(not_allowed())
    }
}

fn locate(req: &HttpRequest) -> Result<ObjectPath, ApiError> {
    locate_segments(req, &segments(req)?)
}

fn locate_segments(req: &HttpRequest, segments: &[String]) -> Result<ObjectPath, ApiError> {
    ObjectPath::locate(segments)?.ok_or_else(|| ApiError::uri_not_found(req.path()))
}

/// The request's path below `/policy/api/v1`, its segments percent-decoded.
fn segments(req: &HttpRequest) -> Result<Vec<String>, ApiError> {
    let not_found = || ApiError::uri_not_found(req.path());
    let below = req
        .uri()
        .path()
        .strip_prefix(POLICY_API)
        .and_then(|rest| rest.strip_prefix('/'))
        .ok_or_else(not_found)?;
    // NSX Manager answers a path with a trailing slash as the path without it
    // (`GET /infra/tier-0s/` lists the tier-0s).
    let below = below.strip_suffix('/').unwrap_or(below);
    let segments = below
        .split('/')
        .map(|raw| {
            percent_decode_str(raw)
                .decode_utf8()
                .map(|decoded| decoded.into_owned())
                .map_err(|_| FieldError::new("id", "must be valid UTF-8 after percent-decoding"))
        })
        .collect::<Result<Vec<String>, FieldError>>()?;
    if segments.iter().any(String::is_empty) {
        return Err(not_found());
    }
    Ok(segments)
}

fn allows(methods: Methods, method: &Method) -> bool {
    match *method {
        Method::GET => methods.get,
        Method::PUT => methods.put,
        Method::PATCH => methods.patch,
        Method::DELETE => methods.delete,
        _ => false,
    }
}

/// Registers the catalog's objects, after every other route of the Policy API.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(CATALOG_ROUTE)
            .route(web::get().to(read))
            .route(web::put().to(write))
            .route(web::patch().to(write))
            .route(web::delete().to(delete))
            .default_service(web::to(other_method)),
    );
}

/// GET: the stored object, or one page of a collection's objects.
pub async fn read(
    reader: Reader,
    store: Store,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let segments = segments(&req)?;
    if let Some(route) = catalog().locate_collection(&segments) {
        return list(&store, &req, &segments, route).await;
    }
    let CatalogPath(path) = catalog_path(&req, &segments)?;
    if let Some(root) = Root::container(&path) {
        return hierarchy::read(reader, &store, &req, &root).await;
    }
    shown_object(&store, &path)
        .await?
        .ok_or_else(|| ApiError::object_not_found(path.as_str()))
}

/// 200 with the object stored at `path` as the API shows it, if there is one: with the
/// children of its embedded lists where its route has any ([`embedded::shown`]), read with
/// it from one snapshot.
async fn shown_object(store: &Store, path: &ObjectPath) -> Result<Option<HttpResponse>, ApiError> {
    if catalog().route(path.route()).embedded.is_empty() {
        return Ok(store
            .get(path)
            .await?
            .map(|object| object_response(&object)));
    }
    let mut below = store.subtree(path.as_str()).await?;
    let Some(at) = below.iter().position(|object| object.path == *path) else {
        return Ok(None);
    };
    let object = below.swap_remove(at);
    Ok(Some(json_response(&embedded::shown(&object, &below))))
}

/// The JSON each object of `page` is shown as: with the children of its embedded lists
/// where its route has any, each object's read from one snapshot.
async fn shown_page<P>(
    store: &Store,
    page: Page<PolicyObject, P>,
) -> Result<Page<String, P>, ApiError> {
    let mut items = Vec::with_capacity(page.items.len());
    for object in page.items {
        if catalog().route(object.path.route()).embedded.is_empty() {
            items.push(object.to_json());
            continue;
        }
        let below = store.subtree(object.path.as_str()).await?;
        items.push(embedded::shown(&object, &below).to_string());
    }
    Ok(Page {
        items,
        total: page.total,
        next: page.next,
    })
}

/// One page of the collection at `segments`, whose members `route` serves: the objects
/// stored at `<collection>/<id>` under the collection's parent.
async fn list(
    store: &Store,
    req: &HttpRequest,
    segments: &[String],
    route: RouteId,
) -> Result<HttpResponse, ApiError> {
    let path: String = segments.iter().flat_map(|s| ["/", s.as_str()]).collect();
    // The parent's path: the collection's leading segments, as many as its members' parent.
    let parent: String = catalog()
        .parent_depth(route)
        .map(|depth| {
            segments[..depth]
                .iter()
                .flat_map(|s| ["/", s.as_str()])
                .collect()
        })
        .unwrap_or_default();
    let counted_types = catalog()
        .counted_types(route)
        .unwrap_or_default()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let collection = Collection {
        parent,
        path,
        counted_types,
    };
    list_response(store, req, collection).await
}

/// The ordering a list answer reports back.
#[derive(Serialize)]
struct ListOrder {
    sort_by: &'static str,
    sort_ascending: bool,
}

/// One page of `collection`, as the request's query asks: every list of the Policy API.
pub async fn list_response(
    store: &Store,
    req: &HttpRequest,
    collection: Collection,
) -> Result<HttpResponse, ApiError> {
    let pairs = query_pairs(req)?;
    let cursors = store.cursor_key();
    let query = ListQuery::parse(collection, &Params::new(&pairs), cursors)?;
    let page = shown_page(store, store.list(&query).await?).await?;
    let order = ListOrder {
        sort_by: query.sort_by.as_str(),
        sort_ascending: query.ascending,
    };
    let scope = query.cursor_scope();
    let body = PageBody::new(page, (cursors, &scope), order, |json| {
        RawValue::from_string(json).expect("an object renders as JSON")
    });
    Ok(body.response())
}

/// The body of a PUT or PATCH of a catalog path: an object's, or on a root, a tree's (with
/// its own limit).
pub enum WriteBody {
    Object(JsonBody),
    Tree(TreeBody),
}

impl FromRequest for WriteBody {
    type Error = ApiError;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let on_root = locate(req).is_ok_and(|path| Root::container(&path).is_some());
        if on_root {
            let body = TreeBody::from_request(req, payload);
            Box::pin(async move { body.await.map(WriteBody::Tree) })
        } else {
            let body = JsonBody::from_request(req, payload);
            Box::pin(async move { body.await.map(WriteBody::Object) })
        }
    }
}

/// PUT (create, or replace with the stored `_revision`; answers the stored object) and
/// PATCH (create, or merge the top-level fields given; answers an empty body) of the object
/// at `path`; on a root (`/infra`), the Hierarchical API's.
pub async fn write(
    writer: Writer,
    store: Store,
    req: HttpRequest,
    CatalogPath(path): CatalogPath,
    body: WriteBody,
) -> Result<HttpResponse, ApiError> {
    let put = req.method() == Method::PUT;
    let document = match body {
        WriteBody::Tree(tree) if put => {
            return hierarchy::put(writer, &store, &req, &root(&path), tree).await
        }
        WriteBody::Tree(tree) => {
            return hierarchy::patch(writer, &store, &req, &root(&path), tree).await
        }
        WriteBody::Object(JsonBody(body)) => document(&req, &body, &path)?,
    };
    let Writer(actor) = writer;
    let change = match put {
        true => Change::Put(document),
        false => Change::Patch(document),
    };
    // A PUT answers the object; a PATCH answers it only where the bindings declare so.
    let answers = put || catalog().route(path.route()).patch_answers;
    let asked = path.clone();
    let embeds = !catalog().route(path.route()).embedded.is_empty();
    match store.write(path, change, &actor.name).await? {
        Some(applied) if answers && !embeds => Ok(object_response(&applied.object)),
        _ if answers => shown_object(&store, &asked)
            .await?
            .ok_or_else(|| ApiError::object_not_found(asked.as_str())),
        _ => Ok(empty_response()),
    }
}

/// The root whose tree a write's body is (its path is a root's: the body was read as one).
fn root(path: &ObjectPath) -> Root {
    Root::container(path).expect("a tree's body is a root's")
}

/// The document a write's body makes for the object at `path`, as its kind reads it.
fn document(req: &HttpRequest, body: &[u8], path: &ObjectPath) -> Result<Document, ApiError> {
    Ok(kinds(req).document(json_object(body)?, path)?)
}

/// DELETE: idempotent; any body is ignored. Answers an empty body.
pub async fn delete(
    Writer(actor): Writer,
    store: Store,
    CatalogPath(path): CatalogPath,
) -> Result<HttpResponse, ApiError> {
    store.write(path, Change::Delete, &actor.name).await?;
    Ok(empty_response())
}

/// Any other method: 405 on an object's path, 404 elsewhere.
async fn other_method(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    locate(&req)?;
    Err(ApiError::method_not_allowed(
        req.method().as_str(),
        req.path(),
    ))
}

/// 200 with the object as the API serves it.
pub fn object_response(object: &PolicyObject) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(object.rendered())
}
