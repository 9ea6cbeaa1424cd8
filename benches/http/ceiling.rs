//! The ceilings: actix-web processes (this benchmark's binary, re-executed) that answer what
//! the store answers while storing nothing, so that the store's rate can be read as a share
//! of what HTTP alone allows on the same machine at the same moment.
//!
//! - `typed`: parses a PUT's body as the store's handler does (its envelope, then its kind's
//!   checks: the traceflow's typed fields) and renders the object the store would answer
//!   (the heavier handler).
//! - `value`: parses a PUT's body as a `serde_json::Value`, sets `id` and `_revision` and
//!   renders it; a GET renders a clone of a stored `serde_json::Value` of the same object.
//!   Neither checks credentials. A ratio to it is what the store keeps of HTTP's own rate.

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use std::sync::OnceLock;

use nsx_policy_store::domain::kind::Kinds;
use nsx_policy_store::domain::{json_object, Config, Metadata, ObjectId, PolicyObject};
use nsx_policy_store::kinds::traceflow::path_of;
use nsx_policy_store::kinds::traceflow::run::{ResultsMode, ResultsPolicy};
use nsx_policy_store::kinds::Registry;
use serde_json::{json, Value};

/// The environment variables that make this binary a ceiling: where it listens, and which.
pub const LISTEN: &str = "NSX_BENCH_CEILING_LISTEN";
pub const KIND: &str = "NSX_BENCH_CEILING_KIND";

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Typed,
    Value,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Typed => "typed",
            Kind::Value => "value",
        }
    }
}

/// What a PUT costs without a store: parse the same body into the same typed config and
/// render the same answer.
async fn put_typed(path: web::Path<String>, body: web::Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(typed_object(&path.into_inner(), &body).to_json())
}

/// The traceflow `id` as the store would answer its create with `body`.
pub fn typed_object(id: &str, body: &[u8]) -> PolicyObject {
    static KINDS: OnceLock<Registry> = OnceLock::new();
    let kinds = KINDS.get_or_init(|| {
        Registry::new(ResultsPolicy {
            mode: ResultsMode::Simulate,
            delay_ms: 0,
            seed: 0,
        })
    });
    let id = ObjectId::parse(id).unwrap();
    let path = path_of(&id);
    let document = kinds.document(json_object(body).unwrap(), &path).unwrap();
    let config = Config::create(document, &id);
    kinds.at(&path).complete(config.members()).unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    PolicyObject::new(
        path,
        config,
        Metadata {
            unique_id: uuid::Uuid::new_v4(),
            revision: 0,
            create_time: now,
            create_user: "admin".into(),
            last_modified_time: now,
            last_modified_user: "admin".into(),
            marked_for_delete: false,
        },
    )
}

/// A PUT of any path: the body as a `Value`, its `id` and `_revision` set, rendered.
async fn put_value(req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let mut object: Value = serde_json::from_slice(&body).unwrap();
    let id = req.path().rsplit('/').next().unwrap_or_default();
    object["id"] = json!(id);
    object["_revision"] = json!(0);
    HttpResponse::Ok()
        .content_type("application/json")
        .body(serde_json::to_vec(&object).unwrap())
}

/// A GET of any path: a clone of the stored object, rendered.
async fn get_value(stored: web::Data<Value>) -> HttpResponse {
    let object = stored.get_ref().clone();
    HttpResponse::Ok()
        .content_type("application/json")
        .body(serde_json::to_vec(&object).unwrap())
}

/// Serves the ceiling of `kind` on `listen`; `stored` is the object a value GET renders.
pub fn serve(listen: &str, kind: Kind, stored: Value) {
    actix_web::rt::System::new().block_on(async {
        let listener = std::net::TcpListener::bind(listen).unwrap();
        println!(
            "ceiling listening on http://{}",
            listener.local_addr().unwrap()
        );
        let stored = web::Data::new(stored);
        HttpServer::new(move || {
            let app = App::new().app_data(stored.clone());
            match kind {
                Kind::Typed => app.route(
                    "/policy/api/v1/infra/antrea/traceflows/{id}",
                    web::put().to(put_typed),
                ),
                Kind::Value => app.service(
                    web::resource("/policy/api/v1/{tail:.*}")
                        .route(web::put().to(put_value))
                        .route(web::get().to(get_value)),
                ),
            }
        })
        .listen(listener)
        .unwrap()
        .run()
        .await
        .unwrap();
    });
}
