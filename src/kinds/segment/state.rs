//! A segment's configuration state on its enforcement point, which NSX serves at
//! `/infra/segments/{id}/state` and clients poll after a write: read from the same
//! realization as the segment's realized entity and status (the README's "Realized state").

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use crate::domain::realization::{Realization, RealizedState};
use crate::domain::PolicyObject;
use crate::http::auth::Reader;
use crate::http::openapi::schemas::Schemas;
use crate::http::operation::{Operation, Table};
use crate::http::operations::CORE;
use crate::http::realization::sub_resource_answer;
use crate::http::ApiError;

use super::ports;

/// The segment's own operations (`operations.toml`, in the core's table's format).
static OPERATIONS: Table = Table::new(include_str!("operations.toml"), Some(&CORE));

static SCHEMAS: Schemas = Schemas::new(include_str!("schemas.json"));

/// The segment's own operations: its state ([`state`]) and its ports' ([`ports::state`]).
pub fn operations() -> Vec<Operation> {
    OPERATIONS.operations(|id| match id {
        "ReadSegmentState" => Some(web::route().to(state)),
        "ReadSegmentPortState" | "ReadProjectSegmentPortState" => {
            Some(web::route().to(ports::state))
        }
        _ => None,
    })
}

/// The schema of the segment's body named `name`; `None` for another name.
pub fn schema(name: &str) -> Option<Value> {
    SCHEMAS.get(name)
}

/// `GET /infra/segments/{id}/state`: the segment's `SegmentConfigurationState`.
pub async fn state(
    _: Reader,
    store: web::Data<dyn crate::storage::Store>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    sub_resource_answer(&store, &req, configuration_state).await
}

/// The `SegmentConfigurationState` of `segment`, realized as `realization` says.
fn configuration_state(segment: &PolicyObject, realization: &Realization) -> Value {
    let mut state = json!({
        "segment_path": segment.path.as_str(),
        "state": configuration(realization.state),
    });
    if let Some(message) = &realization.error_message {
        state["failure_message"] = json!(message);
    }
    state
}

/// A segment's configuration state (`SegmentConfigurationState.state`) in a realized state.
fn configuration(state: RealizedState) -> &'static str {
    match state {
        RealizedState::Realized => "success",
        RealizedState::Unrealized => "in_progress",
        RealizedState::Error => "failed",
        RealizedState::Unavailable => "pending",
    }
}
