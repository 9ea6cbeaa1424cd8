//! LB services: NSX serves a service's status on its enforcement point at
//! `/infra/lb-services/{id}/detailed-status`, which nsxlib's `lb_service.get_status` and
//! Octavia's driver read: from the same realization as the service's realized entity (the
//! README's "Realized state"), and its own fields (an LB service that is not enabled is
//! `DISABLED`; one attached to no gateway, `DETACHED`).

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use crate::domain::realization::{Realization, RealizedState, ENFORCEMENT_POINT};
use crate::domain::PolicyObject;
use crate::http::auth::Reader;
use crate::http::openapi::schemas::Schemas;
use crate::http::operation::{Operation, Table};
use crate::http::operations::CORE;
use crate::http::realization::sub_resource_answer;
use crate::http::ApiError;

/// The LB service's own operation (`operations.toml`, in the core's table's format).
static OPERATIONS: Table = Table::new(include_str!("operations.toml"), Some(&CORE));

static SCHEMAS: Schemas = Schemas::new(include_str!("schemas.json"));

/// The LB service's own operation, served by [`detailed_status`].
pub fn operations() -> Vec<Operation> {
    OPERATIONS.operations(|id| {
        (id == "ReadLBServiceDetailedStatus").then(|| web::route().to(detailed_status))
    })
}

/// The schema of the LB service's body named `name`; `None` for another name.
pub fn schema(name: &str) -> Option<Value> {
    SCHEMAS.get(name)
}

/// `GET /infra/lb-services/{id}/detailed-status`: the service's `AggregateLBServiceStatus`.
pub async fn detailed_status(
    _: Reader,
    store: web::Data<dyn crate::storage::Store>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    sub_resource_answer(&store, &req, aggregate_status).await
}

/// The `AggregateLBServiceStatus` of `service`, realized as `realization` says.
fn aggregate_status(service: &PolicyObject, realization: &Realization) -> Value {
    let path = service.path.as_str();
    let mut status = json!({
        "resource_type": "LBServiceStatus",
        "service_path": path,
        "service_status": service_status(service, realization.state),
        "enforcement_point_path": ENFORCEMENT_POINT,
        "virtual_servers": [],
        "pools": [],
    });
    if let Some(message) = &realization.error_message {
        status["error_message"] = json!(message);
    }
    json!({"intent_path": path, "results": [status]})
}

/// The service's `service_status`: `UP` once realized, unless it is not enabled
/// (`DISABLED`) or attached to no gateway (`DETACHED`); `ERROR` in error; `UNKNOWN` while
/// its transport nodes report nothing.
fn service_status(service: &PolicyObject, state: RealizedState) -> &'static str {
    let members = service.config.members();
    match state {
        RealizedState::Realized if members.get("enabled") == Some(&Value::Bool(false)) => {
            "DISABLED"
        }
        RealizedState::Realized if !members.contains_key("connectivity_path") => "DETACHED",
        RealizedState::Realized => "UP",
        RealizedState::Error => "ERROR",
        RealizedState::Unrealized | RealizedState::Unavailable => "UNKNOWN",
    }
}
