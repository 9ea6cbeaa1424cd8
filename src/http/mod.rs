//! HTTP: the routes, the extractors that turn requests into domain values, and [`ApiError`],
//! which turns every failure into NSX's error body.

pub mod auth;
mod error;
pub mod events;
pub mod extractors;
pub mod faults;
pub mod health;
mod hierarchy;
mod history;
pub mod inspector;
mod inventory;
pub mod journal;
pub mod landing;
pub mod objects;
pub mod observe;
pub mod openapi;
pub mod operation;
pub mod operations;
pub mod pages;
pub mod probes;
pub mod realization;
pub mod request_id;
pub mod responses;
mod search;
pub mod spec;
pub mod sse;
mod state;
mod templates;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{guard, web, HttpRequest, HttpResponse};

pub use error::{ensure_api_error, ApiError};
pub use pages::{NoExtra, PageBody};

use templates::Templates;

/// Where the NSX Policy API lives.
pub const POLICY_API: &str = "/policy/api/v1";

/// Where this service's own extensions live, outside NSX's namespaces.
pub const STORE_API: &str = "/store/v1";

/// Registers every operation of [`operations::operations`] (the core's and the kinds'), one
/// resource per path, in the table's order, then the catalog's objects ([`objects`]) below
/// every other Policy route. Each handler's extractors say which permission it needs
/// (`auth::Reader`, `auth::Writer`).
///
/// The router tries the services one after another, a path with parameters by a regular
/// expression, and a request pays for every one it passes: a catalog request, which none
/// of the operations serves, would pay for them all (a tenth of a catalog GET's time for
/// fifteen of them). So the store's own operations sit in one scope, `/store/v1`, which a
/// request elsewhere passes with one comparison of its path's start, and the other
/// operations whose paths have parameters in one branch per static start of their paths
/// ([`Branch`]): a request passes a branch not its own with that one comparison, and one
/// its start shares (a catalog path below `/infra/segments`) with one look-up of the
/// branch's templates.
pub fn routes(cfg: &mut web::ServiceConfig, kinds: &operation::KindsApi) {
    let mut resources: Vec<(String, Vec<actix_web::Route>)> = Vec::new();
    for operation in operations::operations(kinds) {
        match resources
            .iter_mut()
            .find(|(path, _)| *path == operation.path)
        {
            Some((_, routes)) => routes.push(operation.route),
            None => resources.push((operation.path, vec![operation.route])),
        }
    }
    let mut branches: Vec<Branch> = Vec::new();
    let mut store = web::scope(STORE_API).default_service(web::to(not_found));
    for (path, routes) in resources {
        let resource = |path: &str| {
            routes
                .into_iter()
                .fold(resource(path), actix_web::Resource::route)
        };
        if let Some(rest) = path
            .strip_prefix(STORE_API)
            .filter(|rest| rest.starts_with('/'))
        {
            store = store.service(resource(rest));
            continue;
        }
        let Some(start) = Branch::start_of(&path) else {
            cfg.service(resource(&path));
            continue;
        };
        let branch = match branches.iter_mut().position(|branch| branch.start == start) {
            Some(found) => &mut branches[found],
            None => {
                branches.push(Branch::new(start));
                branches.last_mut().expect("just pushed")
            }
        };
        branch.resources.push(resource(&path[start.len()..]));
        branch.paths.push(path);
    }
    for branch in branches {
        cfg.service(branch.scope());
    }
    cfg.service(store);
    objects::routes(cfg);
    cfg.default_service(web::to(not_found));
}

/// The operations whose paths have parameters and start alike, up to their first
/// parameter (`/policy/api/v1/infra/antrea/traceflows` for `…/traceflows/{id}` and
/// `…/traceflows/{id}/status`): one scope at that start, guarded by their templates
/// matched segment by segment ([`templates::Templates`]), so that a request below the same
/// start that none of them serves goes on to the catalog.
struct Branch {
    start: String,
    paths: Vec<String>,
    resources: Vec<actix_web::Resource>,
}

impl Branch {
    fn new(start: &str) -> Self {
        Self {
            start: start.to_owned(),
            paths: Vec::new(),
            resources: Vec::new(),
        }
    }

    /// The static start of a path with parameters (before the `/` of its first), or none
    /// for a path without.
    fn start_of(path: &str) -> Option<&str> {
        let first = path.find('{')?;
        Some(path[..first].trim_end_matches('/'))
    }

    fn scope(self) -> actix_web::Scope {
        let templates = Templates::new(self.paths.iter().map(String::as_str));
        let guarded = web::scope(&self.start).guard(guard::fn_guard(move |context| {
            templates.matches(context.head().uri.path())
        }));
        self.resources
            .into_iter()
            .fold(guarded, actix_web::Scope::service)
    }
}

/// The API documents of every operation, the core's and the kinds'.
pub fn documents(kinds: operation::KindsApi) -> spec::ApiDocuments {
    spec::ApiDocuments::new(kinds, operations::operations)
}

/// A middleware's answer for a request it lets through untouched: the next service's.
async fn pass_on<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// What the server registered of type `T`, for a middleware.
fn registered<T: ?Sized + 'static>(req: &ServiceRequest) -> web::Data<T> {
    req.app_data::<web::Data<T>>()
        .unwrap_or_else(|| panic!("{} is registered", std::any::type_name::<T>()))
        .clone()
}

/// A resource: its routes are its methods, and any other method answers 405.
fn resource(path: impl Into<String>) -> actix_web::Resource {
    web::resource(path.into()).default_service(web::to(method_not_allowed))
}

async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::uri_not_found(req.path()))
}

async fn method_not_allowed(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::method_not_allowed(
        req.method().as_str(),
        req.path(),
    ))
}
