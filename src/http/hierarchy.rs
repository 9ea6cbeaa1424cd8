//! The Hierarchical API's handlers (the README's "Hierarchical API"): `PATCH` (and `PUT`) of
//! a root writes a tree of objects in one transaction; `GET` of a root answers its tree. The
//! roots are `/policy/api/v1/infra` and a project's `/infra` (the catalog's `Infra`
//! containers, reached through [`super::objects`]) and `/policy/api/v1/org-root`.

use actix_web::{web, HttpRequest, HttpResponse};

use super::auth::{Reader, Writer};
use super::extractors::{kinds, TreeBody};
use super::pages::query_pairs;
use super::responses::{empty_response, json_response};
use super::ApiError;
use crate::domain::hierarchy::{self, Root, TreeQuery};
use crate::domain::{FieldError, ObjectPath, PolicyObject};

type Store = web::Data<dyn crate::storage::Store>;

/// `PATCH /policy/api/v1/org-root`: a tree of orgs, projects and VPCs.
pub async fn patch_org_root(
    writer: Writer,
    store: Store,
    req: HttpRequest,
    body: TreeBody,
) -> Result<HttpResponse, ApiError> {
    patch(writer, &store, &req, &Root::org_root(), body).await
}

/// `GET /policy/api/v1/org-root`: the tree of orgs, projects and VPCs.
pub async fn read_org_root(
    reader: Reader,
    store: Store,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    read(reader, &store, &req, &Root::org_root()).await
}

/// Writes the tree of `body` below `root`, all of it or nothing. Answers an empty body.
pub async fn patch(
    Writer(actor): Writer,
    store: &Store,
    req: &HttpRequest,
    root: &Root,
    TreeBody(body): TreeBody,
) -> Result<HttpResponse, ApiError> {
    let enforce_revision_check = enforce_revision_check(req)?;
    let writes = hierarchy::parse(&body, root, enforce_revision_check, kinds(req))?;
    store.write_tree(writes, &actor.name).await?;
    Ok(empty_response())
}

/// `PUT` of a root: the tree is written as a `PATCH` writes it, and the answer is the
/// root's tree, as a `GET` of it answers.
pub async fn put(
    writer: Writer,
    store: &Store,
    req: &HttpRequest,
    root: &Root,
    body: TreeBody,
) -> Result<HttpResponse, ApiError> {
    patch(writer, store, req, root, body).await?;
    let tree = hierarchy::render(
        root,
        &store.subtree(root.path()).await?,
        &Default::default(),
    );
    Ok(json_response(&tree))
}

/// `GET` of a root: its tree, or the part of it `base_path`, `type_filter` or `filter` ask
/// for.
pub async fn read(
    _: Reader,
    store: &Store,
    req: &HttpRequest,
    root: &Root,
) -> Result<HttpResponse, ApiError> {
    let query = TreeQuery::parse(root, &query_pairs(req)?)?;
    let objects = match &query.base_path {
        None => store.subtree(root.path()).await?,
        Some(base) => {
            // The objects above the base path, to reach it, then its own subtree.
            let mut objects: Vec<PolicyObject> = Vec::new();
            for (cut, _) in base.match_indices('/').skip(1) {
                let Ok(above) = ObjectPath::from_stored(&base[..cut]) else {
                    continue;
                };
                if let Some(object) = store.get(&above).await? {
                    objects.push(object.as_ref().clone());
                }
            }
            objects.extend(store.subtree(base).await?);
            objects
        }
    };
    Ok(json_response(&hierarchy::render(root, &objects, &query)))
}

/// `enforce_revision_check`: `true` checks each object's `_revision` as a PATCH does.
fn enforce_revision_check(req: &HttpRequest) -> Result<bool, ApiError> {
    let mut enforce = false;
    for (name, value) in query_pairs(req)? {
        if name == "enforce_revision_check" {
            enforce = match value.as_str() {
                "true" => true,
                "false" => false,
                _ => {
                    return Err(
                        FieldError::new("enforce_revision_check", "must be true or false").into(),
                    )
                }
            };
        }
    }
    Ok(enforce)
}
