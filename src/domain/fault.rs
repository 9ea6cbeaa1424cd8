//! Fault and latency rules (the README's "Fault and latency injection"): what a rule is, how
//! a body becomes one, and which request it matches. Counting and drawing are the HTTP
//! layer's; this is pure.

use globset::{Glob, GlobBuilder, GlobMatcher};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;
use serde_with::skip_serializing_none;

use super::values::{Ranged, NON_NEGATIVE};
use super::{json_object, BodyError, FieldError};

/// A rule as a client gives it (and as `[[faults]]` in the configuration holds it). Closed.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    #[serde(rename = "match", default)]
    pub matches: Option<MatchSpec>,
    #[serde(default = "certain")]
    pub probability: Probability,
    #[serde(default)]
    pub skip: Ranged<NON_NEGATIVE>,
    pub times: Option<Ranged<NON_NEGATIVE>>,
    pub latency_ms: Option<Latency>,
    pub error: Option<ErrorSpec>,
    #[serde(default)]
    pub drop_connection: bool,
    #[serde(default)]
    pub when: When,
}

fn certain() -> Probability {
    Probability(1.0)
}

/// Which requests a rule matches: every given field must match.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchSpec {
    pub method: Option<String>,
    /// A glob on the request path: `*` any characters but `/`, `**` any characters.
    pub path: Option<String>,
    pub user: Option<String>,
}

/// A number from 0 to 1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Probability(f64);

impl<'de> Deserialize<'de> for Probability {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = f64::deserialize(deserializer)?;
        if (0.0..=1.0).contains(&value) {
            Ok(Self(value))
        } else {
            Err(serde::de::Error::custom("must be a number between 0 and 1"))
        }
    }
}

/// A fixed delay, or a uniform one between two bounds, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Latency {
    Fixed(u64),
    Uniform(u64, u64),
}

impl Serialize for Latency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Latency::Fixed(ms) => serializer.serialize_u64(*ms),
            Latency::Uniform(min, max) => [min, max].serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Latency {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let rule = "must be a number of milliseconds, or [min, max]";
        match Value::deserialize(deserializer)? {
            Value::Number(n) => n.as_u64().map(Latency::Fixed),
            Value::Array(bounds) => match bounds.as_slice() {
                [min, max] => match (min.as_u64(), max.as_u64()) {
                    (Some(min), Some(max)) if min <= max => Some(Latency::Uniform(min, max)),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        }
        .ok_or_else(|| serde::de::Error::custom(rule))
    }
}

impl Latency {
    /// The delay for a draw `chance` in `[0, 1)`.
    pub fn millis(self, chance: f64) -> u64 {
        match self {
            Latency::Fixed(ms) => ms,
            Latency::Uniform(min, max) => {
                let span = (u128::from(max) - u128::from(min) + 1) as f64;
                min.saturating_add((span * chance) as u64).min(max)
            }
        }
    }
}

/// The ApiError a rule answers instead.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorSpec {
    pub status: ErrorStatus,
    pub error_code: u32,
    pub error_message: String,
    pub module_name: Option<String>,
}

/// An HTTP status from 400 to 599.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ErrorStatus(pub u16);

impl<'de> Deserialize<'de> for ErrorStatus {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let status = u16::deserialize(deserializer)
            .map_err(|_| serde::de::Error::custom("must be an HTTP status from 400 to 599"))?;
        if (400..=599).contains(&status) {
            Ok(Self(status))
        } else {
            Err(serde::de::Error::custom(
                "must be an HTTP status from 400 to 599",
            ))
        }
    }
}

/// When the fault happens: before the request is handled (nothing changes), or after it is
/// handled and committed (its answer is lost).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum When {
    #[default]
    Before,
    After,
}

/// A rule, checked: its path glob compiled.
#[derive(Debug, Clone)]
pub struct FaultRule {
    pub spec: FaultSpec,
    path: Option<GlobMatcher>,
}

/// One request, as a rule sees it.
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub user: Option<&'a str>,
}

impl FaultRule {
    /// Parses a request body.
    pub fn parse(body: &[u8]) -> Result<Self, BodyError> {
        let object = Value::Object(json_object(body)?);
        let spec: FaultSpec =
            serde_path_to_error::deserialize(object).map_err(FieldError::from_path_error)?;
        Self::new(spec).map_err(BodyError::Field)
    }

    /// Checks a rule given in the configuration or parsed from a body.
    pub fn new(spec: FaultSpec) -> Result<Self, FieldError> {
        if spec.error.is_none() && spec.latency_ms.is_none() && !spec.drop_connection {
            return Err(FieldError::new(
                ".",
                "a rule needs an effect: latency_ms, error or drop_connection",
            ));
        }
        let path = match spec.matches.as_ref().and_then(|m| m.path.as_deref()) {
            None => None,
            Some(pattern) => Some(compile(pattern)?),
        };
        Ok(Self { spec, path })
    }

    /// Whether every given field of `match` matches the request.
    pub fn matches(&self, request: &Request<'_>) -> bool {
        let Some(spec) = &self.spec.matches else {
            return true;
        };
        let method = spec
            .method
            .as_deref()
            .is_none_or(|method| method.eq_ignore_ascii_case(request.method));
        let path = self
            .path
            .as_ref()
            .is_none_or(|glob| glob.is_match(request.path));
        let user = spec
            .user
            .as_deref()
            .is_none_or(|user| request.user == Some(user));
        method && path && user
    }

    /// Whether the rule injects, its `matched`-th matching request (1 for the first) having
    /// come after `hits` injections, with the draw `chance` in `[0, 1)`.
    pub fn injects(&self, matched: u64, hits: u64, chance: f64) -> bool {
        let skipped = matched <= self.spec.skip.get();
        let spent = self.spec.times.is_some_and(|times| hits >= times.get());
        !skipped && !spent && chance < self.spec.probability.0
    }
}

/// The rule that shaped a request's answer, kept with the request: what the request journal
/// says of it.
#[derive(Debug, Clone)]
pub struct FaultApplied {
    pub rule: String,
    /// Whether the rule closed the connection instead of answering.
    pub dropped: bool,
}

/// `*` matches within a segment, `**` across segments.
fn compile(pattern: &str) -> Result<GlobMatcher, FieldError> {
    let glob: Glob = GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map_err(|err| FieldError::new("match.path", format!("is not a valid glob: {err}")))?;
    Ok(glob.compile_matcher())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule(body: Value) -> Result<FaultRule, BodyError> {
        FaultRule::parse(body.to_string().as_bytes())
    }

    fn request<'a>(method: &'a str, path: &'a str, user: &'a str) -> Request<'a> {
        Request {
            method,
            path,
            user: Some(user),
        }
    }

    #[test]
    fn globs_match_within_and_across_segments() {
        let one = rule(
            json!({"match": {"path": "/policy/api/v1/infra/antrea/traceflows/*"},
                              "latency_ms": 1}),
        )
        .unwrap();
        assert!(one.matches(&request(
            "GET",
            "/policy/api/v1/infra/antrea/traceflows/t1",
            "a"
        )));
        assert!(!one.matches(&request(
            "GET",
            "/policy/api/v1/infra/antrea/traceflows/t1/status",
            "a"
        )));
        let any = rule(
            json!({"match": {"path": "/policy/**", "method": "put", "user": "bob"},
                              "latency_ms": 1}),
        )
        .unwrap();
        assert!(any.matches(&request(
            "PUT",
            "/policy/api/v1/infra/antrea/traceflows/t1/status",
            "bob"
        )));
        assert!(!any.matches(&request("GET", "/policy/x", "bob")));
        assert!(!any.matches(&request("PUT", "/policy/x", "ann")));
    }

    #[test]
    fn skip_times_and_probability_decide_an_injection() {
        let every_third = rule(json!({"skip": 2, "times": 1, "probability": 0.5,
                                      "error": {"status": 503, "error_code": 99,
                                                "error_message": "x"}}))
        .unwrap();
        assert!(!every_third.injects(2, 0, 0.0), "skipped");
        assert!(every_third.injects(3, 0, 0.4));
        assert!(!every_third.injects(3, 0, 0.6), "not drawn");
        assert!(!every_third.injects(4, 1, 0.0), "spent");
    }

    #[test]
    fn every_rule_of_a_fault_names_its_field() {
        let field = |body: Value| match rule(body) {
            Err(BodyError::Field(err)) => err.field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(json!({"latency_ms": -1})), "latency_ms");
        assert_eq!(field(json!({"latency_ms": [5, 1]})), "latency_ms");
        assert_eq!(
            field(json!({"probability": 2, "latency_ms": 1})),
            "probability"
        );
        assert_eq!(
            field(json!({"error": {"status": 302, "error_code": 1, "error_message": "x"}})),
            "error.status"
        );
        assert_eq!(
            field(json!({"error": {"status": 500, "error_code": 1}})),
            "error.error_message"
        );
        assert_eq!(field(json!({"when": "during", "latency_ms": 1})), "when");
        assert_eq!(
            field(json!({"match": {"verb": "GET"}, "latency_ms": 1})),
            "match.verb"
        );
        assert_eq!(
            field(json!({"match": {"path": "/a/[b"}, "latency_ms": 1})),
            "match.path"
        );
        assert_eq!(field(json!({})), ".");
    }

    #[test]
    fn a_uniform_latency_stays_within_its_bounds() {
        let latency = Latency::Uniform(100, 200);
        assert_eq!(latency.millis(0.0), 100);
        assert_eq!(latency.millis(0.999_999), 200);
        let widest = Latency::Uniform(0, u64::MAX);
        assert_eq!(widest.millis(0.0), 0);
        assert!(
            widest.millis(0.999_999) > u64::MAX / 2,
            "no overflow at the top"
        );
    }
}
