//! When maintenance is due: a pure decision, apart from the timer that asks it.

use chrono::NaiveDate;
use std::time::Duration;
use tweetlake_core::config::RunConfig;

/// What the maintenance task does when asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Everything `tweetlake maintain` does: compaction, checkpoints, log cleanup, vacuum.
    Maintain,
    /// Compaction and checkpoints only, between maintenance runs.
    Compact,
}

/// Decides when `run` maintains the lake: every `maintain_every_seconds` when that is set, else
/// once a day, at the first tick within `maintain_hour_utc`; and in between, a compaction every
/// `compact_every_seconds` (counted from the last maintenance or compaction).
#[derive(Debug, Clone)]
pub struct MaintenanceClock {
    every_seconds: u64,
    hour_utc: u32,
    maintained_on: Option<NaiveDate>,
    compact_every: Option<Duration>,
    since_compaction: Duration,
}

impl MaintenanceClock {
    pub fn new(run: &RunConfig) -> Self {
        Self {
            every_seconds: run.maintain_every_seconds,
            hour_utc: run.maintain_hour_utc,
            maintained_on: None,
            compact_every: (run.compact_every_seconds > 0)
                .then(|| Duration::from_secs(run.compact_every_seconds)),
            since_compaction: Duration::ZERO,
        }
    }

    /// How long to sleep before asking again.
    pub fn tick(&self) -> Duration {
        let maintain = Duration::from_secs(if self.every_seconds > 0 {
            self.every_seconds
        } else {
            60
        });
        self.compact_every.map_or(maintain, |c| c.min(maintain))
    }

    /// What to do now, `elapsed` after the last question (UTC hour and date); the answer is
    /// remembered, so the daily run happens once per day and a compaction restarts the count.
    pub fn due(&mut self, hour: u32, today: NaiveDate, elapsed: Duration) -> Option<Due> {
        self.since_compaction += elapsed;
        let maintain =
            self.every_seconds > 0 || (hour == self.hour_utc && self.maintained_on != Some(today));
        let compact = self
            .compact_every
            .is_some_and(|c| self.since_compaction >= c);
        let due = match (maintain, compact) {
            (true, _) => Due::Maintain,
            (false, true) => Due::Compact,
            (false, false) => return None,
        };
        if due == Due::Maintain {
            self.maintained_on = Some(today);
        }
        self.since_compaction = Duration::ZERO;
        Some(due)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).unwrap()
    }

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn daily_at_the_hour_once() {
        let mut clock = MaintenanceClock::new(&RunConfig {
            maintain_hour_utc: 3,
            compact_every_seconds: 0,
            ..Default::default()
        });
        assert_eq!(clock.tick(), MINUTE);
        let seen: Vec<Option<Due>> = [
            (2, day(7)),
            (3, day(7)),
            (3, day(7)),
            (4, day(7)),
            (3, day(8)),
        ]
        .into_iter()
        .map(|(hour, date)| clock.due(hour, date, MINUTE))
        .collect();
        let m = Some(Due::Maintain);
        assert_eq!(seen, [None, m, None, None, m]);
    }

    #[test]
    fn every_n_seconds_when_set() {
        let mut clock = MaintenanceClock::new(&RunConfig {
            maintain_every_seconds: 30,
            maintain_hour_utc: 3,
            compact_every_seconds: 0,
            ..Default::default()
        });
        assert_eq!(clock.tick(), Duration::from_secs(30));
        let every = Duration::from_secs(30);
        assert_eq!(clock.due(9, day(7), every), Some(Due::Maintain));
        assert_eq!(clock.due(9, day(7), every), Some(Due::Maintain));
    }

    #[test]
    fn compaction_between_daily_runs_counts_from_the_last_of_either() {
        let mut clock = MaintenanceClock::new(&RunConfig {
            maintain_hour_utc: 3,
            compact_every_seconds: 150,
            ..Default::default()
        });
        // Ticks of a minute (the daily clock's), each asking after one minute.
        assert_eq!(clock.tick(), MINUTE);
        let seen: Vec<Option<Due>> = [2, 2, 2, 2, 2, 3, 3, 3, 3]
            .into_iter()
            .map(|hour| clock.due(hour, day(7), MINUTE))
            .collect();
        let (m, c) = (Some(Due::Maintain), Some(Due::Compact));
        // Minute 3: 150 s passed. Minute 6: the daily run, which restarts the count. Minute 9:
        // 150 s after it.
        assert_eq!(seen, [None, None, c, None, None, m, None, None, c]);
        // A compaction interval shorter than the tick shortens the tick.
        let fast = MaintenanceClock::new(&RunConfig {
            compact_every_seconds: 5,
            ..Default::default()
        });
        assert_eq!(fast.tick(), Duration::from_secs(5));
    }
}
