//! Realized state (the README's "Realized state"): what NSX answers clients that wait for an
//! object to be realized on its enforcement point. An object is `REALIZED` once it is
//! written, unless a script set for its path says otherwise for a while, or for good.
//!
//! The state is a pure function of the object, the script and the real time: nothing wakes
//! up in the background, and a restart changes nothing. Delays are real elapsed time in
//! every mode, as traceflow results' are.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::nsx_model::model;
use super::{json_object, BodyError, FieldError, PolicyObject};

/// Where every object is realized: the one site and enforcement point.
pub const ENFORCEMENT_POINT: &str = "/infra/sites/default/enforcement-points/default";
const SITE: &str = "/infra/sites/default";

/// The type of a realized entity, as searches name it.
pub const REALIZED_RESOURCE_TYPE: &str = "GenericPolicyRealizedResource";

/// Whether NSX reports the `realization_id` of an object of the type named `type_name`
/// (which nsx-operator reads of a VPC subnet, as its logical switch's id): of the types it
/// realizes as entities it names (`nsx_model.toml`'s `realized`). It is the object's
/// `unique_id`, as its entities' `realization_specific_identifier` is.
pub fn reports_realization_id(type_name: &str) -> bool {
    model().realized.contains_key(type_name)
}

/// Where realized entities live, before their intent's path.
pub const REALIZED_PREFIX: &str = "/infra/realized-state/enforcement-points/default";

/// A realization state, as NSX names them (`PolicyRealizedResource.state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RealizedState {
    Unrealized,
    Realized,
    Error,
    Unavailable,
}

impl RealizedState {
    /// The consolidated status NSX's status endpoint answers for it.
    pub fn consolidated(self) -> &'static str {
        match self {
            RealizedState::Realized => "SUCCESS",
            RealizedState::Unrealized => "IN_PROGRESS",
            RealizedState::Error => "ERROR",
            RealizedState::Unavailable => "UNKNOWN",
        }
    }
}

/// How one path is realized, set through the extension API: `state` for `delay_ms` after
/// the script was set (for good without a delay), then `then`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RealizationScript {
    pub state: RealizedState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    #[serde(default = "realized")]
    pub then: RealizedState,
    /// The alarm's message while the state is `ERROR`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// The alarm's `error_details.error_code` while the state is `ERROR`
    /// ([`DEFAULT_ERROR_CODE`] where the script gives none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<u32>,
    /// When the script was set, in real epoch milliseconds: the server's, never the body's.
    #[serde(default)]
    pub set_at: i64,
}

fn realized() -> RealizedState {
    RealizedState::Realized
}

/// What a script's body may say, and what the API answers of a script: all but `set_at`,
/// which is stored, never served (it is real time, and deterministic mode answers alike
/// whenever it runs).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScriptBody {
    state: RealizedState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    delay_ms: Option<u64>,
    #[serde(default = "realized")]
    then: RealizedState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error_code: Option<u32>,
}

/// The error code of a scripted error that names none: NSX's generic "realization failed"
/// is not documented, and nsxlib raises `RealizationErrorStateError` with whatever code an
/// alarm carries (it polls on while there is none).
pub const DEFAULT_ERROR_CODE: u32 = 500_000;

/// The longest delay a script may have: a day.
const MAX_DELAY_MS: u64 = 86_400_000;

impl RealizationScript {
    /// Parses a script's body, set at `now` (real epoch milliseconds).
    pub fn parse(body: &[u8], now: i64) -> Result<Self, BodyError> {
        let members = Value::Object(json_object(body)?);
        let parsed: ScriptBody =
            serde_path_to_error::deserialize(members).map_err(FieldError::from_path_error)?;
        if parsed.delay_ms.is_some_and(|delay| delay > MAX_DELAY_MS) {
            return Err(FieldError::new("delay_ms", "must be between 0 and 86400000").into());
        }
        Ok(Self {
            state: parsed.state,
            delay_ms: parsed.delay_ms,
            then: parsed.then,
            error_message: parsed.error_message,
            error_code: parsed.error_code,
            set_at: now,
        })
    }

    /// Reads back a script this service stored.
    pub fn from_stored(json: &str) -> Result<Self, String> {
        serde_json::from_str(json).map_err(|err| err.to_string())
    }

    /// The stored form, `set_at` included.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a script serializes")
    }

    /// The script as the API answers it, its defaults filled in.
    pub fn answer(&self) -> Value {
        let served = ScriptBody {
            state: self.state,
            delay_ms: self.delay_ms,
            then: self.then,
            error_message: self.error_message.clone(),
            error_code: self.error_code,
        };
        serde_json::to_value(served).expect("a script serializes")
    }

    /// The state it gives at `now` (real epoch milliseconds).
    pub fn state_at(&self, now: i64) -> RealizedState {
        match self.delay_ms {
            Some(delay) if now >= self.set_at.saturating_add(delay as i64) => self.then,
            _ => self.state,
        }
    }
}

/// How the object at a path is realized now: its state, and the message and code of an
/// error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Realization {
    pub state: RealizedState,
    pub error_message: Option<String>,
    pub error_code: u32,
}

impl Realization {
    /// An object's realization at `now`: `REALIZED`, or what its script says.
    pub fn of(script: Option<&RealizationScript>, now: i64) -> Self {
        match script {
            None => Realization {
                state: RealizedState::Realized,
                error_message: None,
                error_code: DEFAULT_ERROR_CODE,
            },
            Some(script) => {
                let state = script.state_at(now);
                Realization {
                    state,
                    error_message: (state == RealizedState::Error).then(|| {
                        script
                            .error_message
                            .clone()
                            .unwrap_or_else(|| "Realization failed (scripted).".to_owned())
                    }),
                    error_code: script.error_code.unwrap_or(DEFAULT_ERROR_CODE),
                }
            }
        }
    }

    /// The realized entities of `object` on the enforcement point, as NSX names them for its
    /// type (`nsx_model.toml`'s `realized`; `Realized<Type>` for a type it does not list),
    /// the first one at the realized path of its intent: `GenericPolicyRealizedResource`s,
    /// each in the object's state, with the attributes NSX extends it with.
    pub fn entities(&self, object: &PolicyObject) -> Vec<Value> {
        let Some(listed) = model().realized.get(object.resource_type()) else {
            let own = format!("Realized{}", object.resource_type());
            return vec![self.entity(object, &own, None)];
        };
        listed
            .iter()
            .map(|realized| {
                let mut entity = self.entity(object, &realized.entity_type, realized.id.as_deref());
                let attributes = extended_attributes(object, &realized.attributes);
                if !attributes.is_empty() {
                    entity["extended_attributes"] = Value::Array(attributes);
                }
                entity
            })
            .collect()
    }

    /// One realized entity of `object`: of `entity_type`, at the object's own realized path,
    /// or below it where it has an `id` of its own (a VPC's `gateway-interface`).
    fn entity(&self, object: &PolicyObject, entity_type: &str, id: Option<&str>) -> Value {
        let path = object.path.as_str();
        let (id, realized_path) = match id {
            None => (object.id().as_str(), format!("{REALIZED_PREFIX}{path}")),
            Some(id) => (id, format!("{REALIZED_PREFIX}{path}/{id}")),
        };
        let mut entity = json!({
            "resource_type": REALIZED_RESOURCE_TYPE,
            "id": id,
            "display_name": object.config.display_name(),
            "path": realized_path,
            "relative_path": id,
            "parent_path": REALIZED_PREFIX,
            "entity_type": entity_type,
            "intent_paths": [path],
            "intent_reference": [path],
            "site_path": SITE,
            "enforcement_point_path": ENFORCEMENT_POINT,
            "realization_specific_identifier": object.meta.unique_id.to_string(),
            "state": self.state,
            "runtime_status": if self.state == RealizedState::Error { "DOWN" } else { "UP" },
            "alarms": [],
            "_revision": object.meta.revision,
            "_create_time": object.meta.create_time,
            "_last_modified_time": object.meta.last_modified_time,
        });
        if let Some(message) = &self.error_message {
            entity["alarms"] = json!([{
                "message": message,
                "source_reference": path,
                "error_details": {
                    "error_code": self.error_code,
                    "error_message": message,
                    "module_name": "policy",
                },
            }]);
            entity["runtime_error"] = json!(message);
        }
        entity
    }

    /// The `ConsolidatedRealizedStatus` of `object`.
    pub fn status(&self, object: &PolicyObject) -> Value {
        let consolidated = json!({"consolidated_status": self.state.consolidated()});
        json!({
            "intent_path": object.path.as_str(),
            "intent_version": object.meta.revision.to_string(),
            "publish_status": self.state,
            "consolidated_status": consolidated,
            "consolidated_status_per_enforcement_point": [{
                "resource_type": "ConsolidatedStatusPerEnforcementPoint",
                "enforcement_point_path": ENFORCEMENT_POINT,
                "enforcement_point_id": "default",
                "consolidated_status": consolidated,
            }],
        })
    }
}

/// The extended attributes of a realized entity of `object`: for each key, the values of the
/// intent's field it shows (`allocation_ip`, `cidr`), where the object has that field.
fn extended_attributes(object: &PolicyObject, shown: &BTreeMap<String, String>) -> Vec<Value> {
    shown
        .iter()
        .filter_map(|(key, field)| {
            let values = match object.config.members().get(field)? {
                Value::Array(items) => items.clone(),
                value => vec![value.clone()],
            };
            Some(json!({
                "key": key,
                "values": values,
                "data_type": "STRING",
                "multivalue": values.len() > 1,
            }))
        })
        .collect()
}

/// The intent path of a realized entity's path (`realized_path`), if it is one of ours.
pub fn intent_of(realized_path: &str) -> Option<&str> {
    realized_path
        .strip_prefix(REALIZED_PREFIX)
        .filter(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(body: Value) -> Result<RealizationScript, String> {
        RealizationScript::parse(body.to_string().as_bytes(), 1_000).map_err(|e| e.to_string())
    }

    #[test]
    fn a_script_holds_its_state_for_its_delay_then_moves_on() {
        let pending = script(json!({"state": "UNREALIZED", "delay_ms": 500})).unwrap();
        assert_eq!(pending.state_at(1_000), RealizedState::Unrealized);
        assert_eq!(pending.state_at(1_499), RealizedState::Unrealized);
        assert_eq!(pending.state_at(1_500), RealizedState::Realized);
        let failing = script(
            json!({"state": "UNREALIZED", "delay_ms": 10, "then": "ERROR",
            "error_message": "no edge"}),
        )
        .unwrap();
        let later = Realization::of(Some(&failing), 2_000);
        assert_eq!(later.state, RealizedState::Error);
        assert_eq!(later.error_message.as_deref(), Some("no edge"));
        let forever = script(json!({"state": "ERROR"})).unwrap();
        assert_eq!(forever.state_at(i64::MAX), RealizedState::Error);
        assert_eq!(
            Realization::of(None, 0).state,
            RealizedState::Realized,
            "without a script, written is realized"
        );
        // The stored form reads back as it was.
        assert_eq!(
            RealizationScript::from_stored(&failing.to_json()).unwrap(),
            failing
        );
        // What the API answers reads back as the same script, set anew.
        let again = RealizationScript::parse(failing.answer().to_string().as_bytes(), 7).unwrap();
        assert_eq!(
            again,
            RealizationScript {
                set_at: 7,
                ..failing
            }
        );
    }

    #[test]
    fn a_bad_script_names_its_field() {
        for (body, expected) in [
            (json!({}), "state: required property not present"),
            (json!({"state": "DONE"}), "state: unknown variant `DONE`, expected one of `UNREALIZED`, `REALIZED`, `ERROR`, `UNAVAILABLE`"),
            (json!({"state": "ERROR", "delay_ms": -1}), "delay_ms: invalid value: integer `-1`, expected u64"),
            (json!({"state": "ERROR", "delay_ms": 86_400_001}), "delay_ms: must be between 0 and 86400000"),
            (json!({"state": "ERROR", "set_at": 5}), "set_at: unknown field `set_at`, expected one of `state`, `delay_ms`, `then`, `error_message`, `error_code`"),
        ] {
            assert_eq!(script(body).unwrap_err(), expected);
        }
    }
}
