//! A gateway's state on its enforcement point, which NSX serves at
//! `/infra/tier-0s/{id}/state` and `/infra/tier-1s/{id}/state` (a project's tier-1s too):
//! `Tier0GatewayState`, `Tier1GatewayState`, read from the same realization as the gateway's
//! realized entity (the README's "Realized state").

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

/// The gateway's own operations (`operations.toml`, in the core's table's format).
static OPERATIONS: Table = Table::new(include_str!("operations.toml"), Some(&CORE));

static SCHEMAS: Schemas = Schemas::new(include_str!("schemas.json"));

/// The gateway's own operations, each served by [`state`].
pub fn operations() -> Vec<Operation> {
    OPERATIONS.operations(|id| id.ends_with("State").then(|| web::route().to(state)))
}

/// The schema of a gateway's answer named `name`; `None` for another name.
pub fn schema(name: &str) -> Option<Value> {
    SCHEMAS.get(name)
}

/// `GET <gateway>/state`: the gateway's state and status.
pub async fn state(
    _: Reader,
    store: web::Data<dyn crate::storage::Store>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    sub_resource_answer(&store, &req, gateway_state).await
}

/// A tier-0's `Tier0GatewayState` or a tier-1's `Tier1GatewayState`, realized as
/// `realization` says: its `tierN_state` (the state of its configuration on the edges)
/// and `tierN_status` (its router's id; no edge reports a node status here).
fn gateway_state(gateway: &PolicyObject, realization: &Realization) -> Value {
    let tier = match gateway.resource_type() {
        "Tier0" => "tier0",
        _ => "tier1",
    };
    let mut configuration = json!({"state": router_state(realization.state), "details": []});
    if let Some(message) = &realization.error_message {
        configuration["failure_message"] = json!(message);
        configuration["failure_code"] = json!(realization.error_code);
    }
    let mut state = json!({"enforcement_point_path": ENFORCEMENT_POINT});
    state[format!("{tier}_state")] = configuration;
    state[format!("{tier}_status")] = json!({
        "logical_router_id": gateway.meta.unique_id.to_string(),
        "last_update_timestamp": gateway.meta.last_modified_time,
        "per_node_status": [],
    });
    state
}

/// A logical router's configuration state (`LogicalRouterState.state`) in a realized state.
fn router_state(state: RealizedState) -> &'static str {
    match state {
        RealizedState::Realized => "in_sync",
        RealizedState::Unrealized => "in_progress",
        RealizedState::Error => "failed",
        RealizedState::Unavailable => "pending",
    }
}
