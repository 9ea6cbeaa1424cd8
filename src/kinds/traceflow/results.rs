//! What a traceflow's run yields, in NSX's shapes (the README's "Traceflow results"):
//! AntreaTraceflowStatus and AntreaTraceflowObservation, and the scripts that decide a run's
//! result through the store's extension API.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_with::skip_serializing_none;

use crate::domain::values::{Ranged, NON_NEGATIVE};
use crate::domain::{json_object, BodyError, FieldError};

/// AntreaTraceflowStatus: `{"phase": "SUCCEEDED"}` or `{"phase": "FAILED", "reason": ...}`.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceflowStatus {
    pub phase: Phase,
    pub reason: Option<String>,
}

impl TraceflowStatus {
    pub fn succeeded() -> Self {
        Self {
            phase: Phase::SUCCEEDED,
            reason: None,
        }
    }

    pub fn failed(reason: impl Into<String>) -> Self {
        Self {
            phase: Phase::FAILED,
            reason: Some(reason.into()),
        }
    }
}

/// NSX's schema has no running phase: a run without its result yet answers `{}`.
#[allow(clippy::upper_case_acronyms)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    SUCCEEDED,
    FAILED,
}

#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ComponentType {
    UNKNOWN,
    ANTREA_SPOOFGUARD,
    ANTREA_LB,
    ANTREA_ROUTING,
    ANTREA_DFW,
    ANTREA_FORWARDING,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ObservationType {
    AntreaTraceflowObservationDelivered,
    AntreaTraceflowObservationReceived,
    AntreaTraceflowObservationForwarded,
    AntreaTraceflowObservationDropped,
}

/// AntreaTraceflowObservation: exactly its four fields. `timestamp` is epoch milliseconds.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Observation {
    pub component_type: Option<ComponentType>,
    pub container_node_id: Option<String>,
    pub observation_type: ObservationType,
    pub timestamp: Option<Ranged<NON_NEGATIVE>>,
}

/// What one run of a traceflow yields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunResult {
    pub status: TraceflowStatus,
    pub observations: Vec<Observation>,
}

/// A scripted result (`PUT /store/v1/traceflows/{id}/result`): the status and observations
/// every run of that id yields, `delay_ms` after it starts. Closed: an unknown field is an
/// error naming it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Script {
    pub status: TraceflowStatus,
    #[serde(default)]
    pub observations: Vec<Observation>,
    #[serde(default)]
    pub delay_ms: Ranged<NON_NEGATIVE>,
}

impl Script {
    /// Parses a request body, naming the first offending field by its dotted path.
    pub fn parse(body: &[u8]) -> Result<Self, BodyError> {
        Self::from_value(Value::Object(json_object(body)?)).map_err(BodyError::Field)
    }

    /// Reads back a script this service stored.
    pub fn from_stored_json(json: &str) -> Result<Self, FieldError> {
        let value: Value =
            serde_json::from_str(json).map_err(|err| FieldError::new("script", err.to_string()))?;
        Self::from_value(value)
    }

    fn from_value(value: Value) -> Result<Self, FieldError> {
        serde_path_to_error::deserialize(value).map_err(FieldError::from_path_error)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a script always serializes")
    }

    /// The result a run started at `started` (epoch ms) yields: the script's, each
    /// observation without a `timestamp` stamped with the moment the result appears.
    pub fn result(&self, started: i64) -> RunResult {
        let appears = u64::try_from(started)
            .unwrap_or(0)
            .saturating_add(self.delay_ms.get());
        let observations = self
            .observations
            .iter()
            .map(|observation| Observation {
                timestamp: Some(
                    observation
                        .timestamp
                        .unwrap_or_else(|| Ranged::new(appears).expect("a time is not negative")),
                ),
                ..observation.clone()
            })
            .collect();
        RunResult {
            status: self.status.clone(),
            observations,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(body: Value) -> Result<Script, BodyError> {
        Script::parse(body.to_string().as_bytes())
    }

    fn field(body: Value) -> String {
        match parse(body) {
            Err(BodyError::Field(err)) => err.field,
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn a_script_fills_its_defaults() {
        let script = parse(json!({"status": {"phase": "SUCCEEDED"}})).unwrap();
        assert_eq!(
            serde_json::to_value(&script).unwrap(),
            json!({"status": {"phase": "SUCCEEDED"}, "observations": [], "delay_ms": 0})
        );
    }

    #[test]
    fn every_rule_of_a_script_names_its_field() {
        assert_eq!(field(json!({})), "status");
        assert_eq!(field(json!({"status": {}})), "status.phase");
        assert_eq!(
            field(json!({"status": {"phase": "RUNNING"}})),
            "status.phase"
        );
        let observations = |observation: Value| json!({"status": {"phase": "FAILED", "reason": "x"}, "observations": [{}, observation]});
        assert_eq!(
            field(observations(
                json!({"observation_type": "AntreaTraceflowObservationDropped"})
            )),
            "observations[0].observation_type"
        );
        let body = json!({"status": {"phase": "SUCCEEDED"},
            "observations": [{"observation_type": "AntreaTraceflowObservationDropped",
                              "component_type": "ANTREA_NAT"}]});
        assert_eq!(field(body), "observations[0].component_type");
        let body = json!({"status": {"phase": "SUCCEEDED"}, "delay_ms": -1});
        assert_eq!(field(body), "delay_ms");
        let body = json!({"status": {"phase": "SUCCEEDED"}, "delay": 5});
        assert_eq!(field(body), "delay");
    }

    #[test]
    fn a_scripted_result_stamps_what_has_no_timestamp() {
        let script = parse(json!({"status": {"phase": "FAILED", "reason": "dropped"},
            "observations": [
                {"observation_type": "AntreaTraceflowObservationForwarded", "timestamp": 7},
                {"observation_type": "AntreaTraceflowObservationDropped"}],
            "delay_ms": 100}))
        .unwrap();
        let result = script.result(1_000);
        let stamps: Vec<_> = result
            .observations
            .iter()
            .map(|o| o.timestamp.map(Ranged::get))
            .collect();
        assert_eq!(stamps, [Some(7), Some(1_100)]);
        assert_eq!(result.status, TraceflowStatus::failed("dropped"));
    }
}
