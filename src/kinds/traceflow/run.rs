//! Runs of a traceflow (the README's "Traceflow results"). A create, a replace, a PATCH and
//! a retrace each start a run whose result replaces the previous run's. A run is a value, not
//! a process: it holds its result from the moment it starts, and a read shows the result
//! once the run's `ready_at` has passed. Nothing wakes up in the background, and a restart
//! changes nothing.

use serde::Deserialize;

use super::config::TraceflowConfig;
use super::results::{RunResult, Script, TraceflowStatus};
use super::simulation::simulate;
use crate::domain::change::Moment;

/// How long a traceflow runs, in seconds, when its config gives no `timeout`.
pub const DEFAULT_TIMEOUT_SECS: u64 = 20;

/// What a run yields when no script is set for its traceflow (`traceflow.results`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResultsMode {
    /// A simulated path ([`simulate`]), `result_delay_ms` after the run starts.
    Simulate,
    /// No result until the traceflow's own timeout has passed; then FAILED, "Traceflow
    /// timeout", and no observations: how clients' time-out paths are tested.
    None,
}

/// The settings' `[traceflow]`: where runs get their results when no script is set.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceflowSettings {
    pub results: ResultsMode,
    /// How long after a run starts its simulated result appears.
    pub result_delay_ms: u64,
}

impl TraceflowSettings {
    /// Where results come from, with `seed` for the simulation's choices (the
    /// deterministic mode's, or a new one).
    pub fn policy(&self, seed: u64) -> ResultsPolicy {
        ResultsPolicy {
            mode: self.results,
            delay_ms: self.result_delay_ms,
            seed,
        }
    }
}

/// Where results come from when no script is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResultsPolicy {
    pub mode: ResultsMode,
    /// How long after its start a simulated result appears.
    pub delay_ms: u64,
    /// The seed of the simulation's choices.
    pub seed: u64,
}

/// One run of a traceflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// 1 for the first run of an object, then one more for each.
    pub number: i64,
    /// When it started, on the store's clock (epoch ms): what its timestamps count from.
    pub started: i64,
    /// When its result appears, in real time (epoch ms): delays are real in every mode.
    pub ready_at: i64,
    pub result: RunResult,
}

/// Which number a started run takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunNumber {
    /// One more than the current run's: a new run.
    Next,
    /// The current run's: the same run, its clock restarted (a script set meanwhile).
    Same,
    /// The first run of an object just created: there is no current run to look for.
    First,
}

impl RunNumber {
    /// The number of the run started after `current` (the number of the object's current
    /// run, if it has one).
    pub fn after(self, current: Option<i64>) -> i64 {
        match (self, current) {
            (RunNumber::First, _) | (_, None) => 1,
            (RunNumber::Next, Some(current)) => current + 1,
            (RunNumber::Same, Some(current)) => current,
        }
    }
}

/// Where a run's result comes from, as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Simulated with `seed`: the result is a pure function of the traceflow's config, the
    /// run's start and the seed ([`simulate`]), so only the seed is kept and a read computes
    /// the result again. A run's config is its traceflow's current one: every change of the
    /// config starts a new run.
    Simulated { seed: u64 },
    /// Decided when the run started (a script's result, or the time-out of `results.mode =
    /// "none"`), and kept as it is.
    Decided(RunResult),
}

/// A run as it starts, and as the store keeps it: its result still to be computed where it
/// is simulated ([`StartedRun::resolve`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartedRun {
    pub number: i64,
    pub started: i64,
    pub ready_at: i64,
    pub outcome: Outcome,
}

impl StartedRun {
    /// Run `number` of a traceflow whose config is `config`, started `at`: the script's result
    /// when one is set, else the policy's.
    pub fn start(
        number: i64,
        config: &TraceflowConfig,
        script: Option<&Script>,
        policy: &ResultsPolicy,
        at: Moment,
    ) -> Self {
        let after = |delay_ms: u64| {
            at.real
                .saturating_add(i64::try_from(delay_ms).unwrap_or(i64::MAX))
        };
        let (delay_ms, outcome) = match (script, policy.mode) {
            (Some(script), _) => (
                script.delay_ms.get(),
                Outcome::Decided(script.result(at.stamp)),
            ),
            (None, ResultsMode::Simulate) => {
                (policy.delay_ms, Outcome::Simulated { seed: policy.seed })
            }
            (None, ResultsMode::None) => {
                let timeout = config
                    .fields()
                    .timeout
                    .map_or(DEFAULT_TIMEOUT_SECS, |secs| secs.get());
                let result = RunResult {
                    status: TraceflowStatus::failed("Traceflow timeout"),
                    observations: Vec::new(),
                };
                (timeout.saturating_mul(1000), Outcome::Decided(result))
            }
        };
        Self {
            number,
            started: at.stamp,
            ready_at: after(delay_ms),
            outcome,
        }
    }

    /// The run with its result, `config` being the config it ran with.
    pub fn resolve(self, config: &TraceflowConfig) -> Run {
        self.resolve_with(|| Ok::<_, std::convert::Infallible>(config))
            .unwrap_or_else(|never| match never {})
    }

    /// The run with its result; `config` (the config it ran with) is asked for only where the
    /// result is simulated.
    pub fn resolve_with<C, E>(self, config: impl FnOnce() -> Result<C, E>) -> Result<Run, E>
    where
        C: std::borrow::Borrow<TraceflowConfig>,
    {
        let Self {
            number,
            started,
            ready_at,
            outcome,
        } = self;
        let result = match outcome {
            Outcome::Simulated { seed } => simulate(config()?.borrow(), started, seed),
            Outcome::Decided(result) => result,
        };
        Ok(Run {
            number,
            started,
            ready_at,
            result,
        })
    }
}

impl Run {
    /// The result a read at real time `now` sees: none before `ready_at`.
    pub fn visible(&self, now: i64) -> Option<&RunResult> {
        (now >= self.ready_at).then_some(&self.result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::traceflow::testing::traceflow_config;
    use serde_json::json;

    const AT: Moment = Moment {
        stamp: 5_000,
        real: 10_000,
    };

    /// A simulated run keeps only the seed in force when it started; resolved with its
    /// config, it is the simulation, whatever seed the policy has by then.
    #[test]
    fn a_simulated_run_keeps_its_seed_and_resolves_to_the_simulation() {
        let object =
            traceflow_config(json!({"container_cluster_id": "c", "source_external_id": "s"}));
        let policy = ResultsPolicy {
            mode: ResultsMode::Simulate,
            delay_ms: 250,
            seed: 7,
        };
        let started = StartedRun::start(4, &object, None, &policy, AT);
        assert_eq!(started.outcome, Outcome::Simulated { seed: 7 });
        assert_eq!(started.ready_at, 10_250);
        let run = started.resolve(&object);
        assert_eq!(run.result, simulate(&object, AT.stamp, 7));
        assert!(
            (0..20).any(|seed| simulate(&object, AT.stamp, seed) != run.result),
            "the seed counts"
        );
        assert_eq!((run.number, run.started), (4, 5_000));

        let scripted = Script::parse(br#"{"status": {"phase": "SUCCEEDED"}}"#).unwrap();
        let decided = StartedRun::start(1, &object, Some(&scripted), &policy, AT);
        assert!(
            matches!(decided.outcome, Outcome::Decided(_)),
            "a script's result is kept"
        );
    }

    #[test]
    fn a_script_wins_over_the_policy_and_appears_after_its_delay() {
        let object =
            traceflow_config(json!({"container_cluster_id": "c", "source_external_id": "s"}));
        let script = Script::parse(
            br#"{"status": {"phase": "FAILED", "reason": "dropped by policy"}, "delay_ms": 300}"#,
        )
        .unwrap();
        let policy = ResultsPolicy {
            mode: ResultsMode::Simulate,
            delay_ms: 0,
            seed: 0,
        };
        let run = StartedRun::start(2, &object, Some(&script), &policy, AT).resolve(&object);
        assert_eq!(run.visible(10_299), None);
        let result = run.visible(10_300).unwrap();
        assert_eq!(result.status, TraceflowStatus::failed("dropped by policy"));
        assert_eq!(run.started, 5_000);

        let simulated = StartedRun::start(3, &object, None, &policy, AT).resolve(&object);
        assert_eq!(
            simulated.visible(10_000).unwrap().status,
            TraceflowStatus::succeeded()
        );
    }

    #[test]
    fn without_results_a_run_times_out_after_the_traceflows_own_timeout() {
        let policy = ResultsPolicy {
            mode: ResultsMode::None,
            delay_ms: 0,
            seed: 0,
        };
        let object = traceflow_config(
            json!({"container_cluster_id": "c", "source_external_id": "s",
                                      "timeout": 2}),
        );
        let run = StartedRun::start(1, &object, None, &policy, AT).resolve(&object);
        assert_eq!(run.visible(11_999), None);
        let result = run.visible(12_000).unwrap();
        assert_eq!(result.status, TraceflowStatus::failed("Traceflow timeout"));
        assert!(result.observations.is_empty());
        let untimed =
            traceflow_config(json!({"container_cluster_id": "c", "source_external_id": "s"}));
        assert_eq!(
            StartedRun::start(1, &untimed, None, &policy, AT).ready_at,
            30_000
        );
    }
}
