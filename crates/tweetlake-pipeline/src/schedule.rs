//! When maintenance is due: a pure decision, apart from the timer that asks it.

use chrono::NaiveDate;
use std::time::Duration;
use tweetlake_core::config::RunConfig;

/// Decides when `run` maintains the lake: every `maintain_every_seconds` when that is set, else
/// once a day, at the first tick within `maintain_hour_utc`.
#[derive(Debug, Clone)]
pub struct MaintenanceClock {
    every_seconds: u64,
    hour_utc: u32,
    maintained_on: Option<NaiveDate>,
}

impl MaintenanceClock {
    pub fn new(run: &RunConfig) -> Self {
        Self {
            every_seconds: run.maintain_every_seconds,
            hour_utc: run.maintain_hour_utc,
            maintained_on: None,
        }
    }

    /// How long to sleep before asking again.
    pub fn tick(&self) -> Duration {
        Duration::from_secs(if self.every_seconds > 0 {
            self.every_seconds
        } else {
            60
        })
    }

    /// Whether to maintain now (UTC hour and date); a yes is remembered, so the daily run
    /// happens once per day.
    pub fn due(&mut self, hour: u32, today: NaiveDate) -> bool {
        let due =
            self.every_seconds > 0 || (hour == self.hour_utc && self.maintained_on != Some(today));
        if due {
            self.maintained_on = Some(today);
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).unwrap()
    }

    #[test]
    fn daily_at_the_hour_once() {
        let mut clock = MaintenanceClock::new(&RunConfig {
            maintain_hour_utc: 3,
            ..Default::default()
        });
        assert_eq!(clock.tick(), Duration::from_secs(60));
        let seen: Vec<bool> = [
            (2, day(7)),
            (3, day(7)),
            (3, day(7)),
            (4, day(7)),
            (3, day(8)),
        ]
        .into_iter()
        .map(|(hour, date)| clock.due(hour, date))
        .collect();
        assert_eq!(seen, [false, true, false, false, true]);
    }

    #[test]
    fn every_n_seconds_when_set() {
        let mut clock = MaintenanceClock::new(&RunConfig {
            maintain_every_seconds: 30,
            maintain_hour_utc: 3,
            ..Default::default()
        });
        assert_eq!(clock.tick(), Duration::from_secs(30));
        assert!(clock.due(9, day(7)) && clock.due(9, day(7)));
    }
}
