//! HTTP: the routes, the extractors that turn requests into domain values, and [`ApiError`],
//! which turns every failure into NSX's error body.

pub mod auth;
mod error;
pub mod extractors;
pub mod faults;
pub mod health;
mod history;
pub mod observe;
mod pages;
pub mod probes;
mod responses;
mod results;
mod state;
mod traceflows;

use actix_web::{web, HttpRequest, HttpResponse};

use crate::domain::object::COLLECTION_PATH;

pub use error::{ensure_api_error, ApiError};
pub use pages::{NoExtra, PageBody};

/// Where the NSX Policy API lives.
pub const POLICY_API: &str = "/policy/api/v1";

/// Where this service's own extensions live, outside NSX's namespaces.
pub const STORE_API: &str = "/store/v1";

/// The node endpoints NSX clients probe when they connect (outside `/policy`).
const NODE_VERSION_PATH: &str = "/api/v1/node/version";
const NODE_PATH: &str = "/api/v1/node";
const HEALTH_PATH: &str = "/api/v1/reverse-proxy/node/health";

/// Registers every route of the service. Each handler's extractors say which permission it
/// needs (`auth::Reader`, `auth::Writer`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource(auth::LOGIN_PATH).route(web::post().to(auth::login)))
        .service(resource(auth::LOGOUT_PATH).route(web::post().to(auth::logout)))
        .service(
            resource(format!("{POLICY_API}{COLLECTION_PATH}"))
                .route(web::get().to(traceflows::list)),
        )
        .service(
            resource(format!("{STORE_API}/revisions")).route(web::get().to(history::revisions)),
        )
        .service(
            resource(format!("{POLICY_API}{COLLECTION_PATH}/{{id}}/status"))
                .route(web::get().to(results::status)),
        )
        .service(
            resource(format!("{POLICY_API}{COLLECTION_PATH}/{{id}}/observations"))
                .route(web::get().to(results::observations)),
        )
        .service(
            resource(format!("{STORE_API}/traceflows/{{id}}/result"))
                .route(web::put().to(results::put_script))
                .route(web::get().to(results::get_script))
                .route(web::delete().to(results::delete_script)),
        )
        .service(
            resource(faults::FAULTS_PATH)
                .route(web::post().to(faults::create))
                .route(web::get().to(faults::list))
                .route(web::delete().to(faults::delete_all)),
        )
        .service(
            resource(format!("{}/{{id}}", faults::FAULTS_PATH))
                .route(web::delete().to(faults::delete)),
        )
        .service(resource(format!("{STORE_API}/reset")).route(web::post().to(state::reset)))
        .service(resource(format!("{STORE_API}/snapshots")).route(web::get().to(state::list)))
        .service(
            resource(format!("{STORE_API}/snapshots/{{name}}"))
                .route(web::put().to(state::save))
                .route(web::get().to(state::read))
                .route(web::post().to(state::restore))
                .route(web::delete().to(state::delete)),
        )
        .service(resource(format!("{STORE_API}/export")).route(web::get().to(state::export)))
        .service(resource(format!("{STORE_API}/import")).route(web::post().to(state::import)))
        .service(resource(NODE_VERSION_PATH).route(web::get().to(probes::version)))
        .service(resource(NODE_PATH).route(web::get().to(probes::node)))
        .service(resource(HEALTH_PATH).route(web::get().to(probes::health)))
        .service(
            resource(format!("{POLICY_API}{COLLECTION_PATH}/{{id}}"))
                .route(web::get().to(traceflows::read))
                .route(web::put().to(traceflows::put))
                .route(web::patch().to(traceflows::patch))
                .route(web::delete().to(traceflows::delete))
                .route(web::post().to(traceflows::post_action)),
        )
        .default_service(web::to(not_found));
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
