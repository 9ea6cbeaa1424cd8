//! The one source of time and chance (the README's "Deterministic mode"). Every part that
//! stamps a time or draws a random number asks this module: the writer's stamps and
//! `unique_id`s, the runs' start times, the simulation's seed, fault probabilities, and the
//! key cursors are sealed with. With `[determinism]` set, two fresh servers fed the same
//! requests in the same order answer byte for byte alike.
//!
//! Delays stay real elapsed time in every mode: the virtual clock only stamps what the store
//! records and serves.

use chrono::{DateTime, Utc};
use rand_chacha::rand_core::{OsRng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Deserializer};
use uuid::Uuid;

/// `[determinism]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeterminismSettings {
    pub clock: ClockSetting,
    /// How far the virtual clock advances after each committed write.
    pub clock_step_ms: u64,
    /// The seed of every random choice; none: the operating system's randomness.
    pub seed: Option<u64>,
}

/// `determinism.clock`: `"system"`, or the RFC 3339 time a virtual clock starts at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockSetting {
    System,
    Virtual(DateTime<Utc>),
}

impl<'de> Deserialize<'de> for ClockSetting {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        if text == "system" {
            return Ok(Self::System);
        }
        DateTime::parse_from_rfc3339(&text)
            .map(|time| Self::Virtual(time.with_timezone(&Utc)))
            .map_err(|_| {
                serde::de::Error::custom(format!(
                    "{text:?} is neither \"system\" nor an RFC 3339 time such as \
                     \"2026-01-01T00:00:00Z\""
                ))
            })
    }
}

/// The streams drawn from the seed, one per consumer, so that one part's draws never shift
/// another's.
#[derive(Debug, Clone, Copy)]
pub enum Stream {
    UniqueIds,
    Faults,
    CursorKey,
}

impl DeterminismSettings {
    /// A generator for one stream: seeded from `seed` and the stream, or from the OS.
    pub fn rng(&self, stream: Stream) -> ChaCha8Rng {
        match self.seed {
            Some(seed) => {
                let mut key = [0u8; 32];
                key[..8].copy_from_slice(&seed.to_le_bytes());
                key[8] = stream as u8 + 1;
                ChaCha8Rng::from_seed(key)
            }
            None => ChaCha8Rng::from_rng(OsRng).expect("the OS has randomness"),
        }
    }

    /// The seed the simulation's choices come from (0 without one).
    pub fn simulation_seed(&self) -> u64 {
        self.seed.unwrap_or(0)
    }

    /// The writer's clock.
    pub fn clock(&self) -> Clock {
        match self.clock {
            ClockSetting::System => Clock::System,
            ClockSetting::Virtual(start) => Clock::Virtual {
                now: start.timestamp_millis(),
                step: i64::try_from(self.clock_step_ms).unwrap_or(i64::MAX),
            },
        }
    }
}

/// The time the store stamps on what it records (epoch ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    System,
    /// Stands still between committed writes; [`Clock::advance`] moves it on.
    Virtual {
        now: i64,
        step: i64,
    },
}

impl Clock {
    pub fn now(&self) -> i64 {
        match self {
            Clock::System => Utc::now().timestamp_millis(),
            Clock::Virtual { now, .. } => *now,
        }
    }

    /// After a committed write: the virtual clock moves one step; the system clock moves
    /// by itself.
    pub fn advance(&mut self) {
        if let Clock::Virtual { now, step } = self {
            *now = now.saturating_add(*step);
        }
    }
}

/// A random UUID v4 from `rng`.
pub fn uuid_v4(rng: &mut ChaCha8Rng) -> Uuid {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(seed: Option<u64>) -> DeterminismSettings {
        DeterminismSettings {
            clock: ClockSetting::Virtual("2026-01-01T00:00:00Z".parse().unwrap()),
            clock_step_ms: 5,
            seed,
        }
    }

    #[test]
    fn one_seed_gives_the_same_draws_and_streams_differ() {
        let draw = |seed, stream| uuid_v4(&mut settings(seed).rng(stream));
        assert_eq!(
            draw(Some(7), Stream::UniqueIds),
            draw(Some(7), Stream::UniqueIds)
        );
        assert_ne!(
            draw(Some(7), Stream::UniqueIds),
            draw(Some(7), Stream::Faults)
        );
        assert_ne!(
            draw(Some(7), Stream::UniqueIds),
            draw(Some(8), Stream::UniqueIds)
        );
        assert_ne!(draw(None, Stream::UniqueIds), draw(None, Stream::UniqueIds));
        assert_eq!(draw(Some(7), Stream::UniqueIds).get_version_num(), 4);
    }

    #[test]
    fn the_virtual_clock_moves_only_when_told() {
        let mut clock = settings(None).clock();
        let start = clock.now();
        assert_eq!(start, 1_767_225_600_000);
        assert_eq!(clock.now(), start);
        clock.advance();
        assert_eq!(clock.now(), start + 5);
    }
}
