//! What a long-running process keeps from one gold round to the next: when each model with a
//! `-- refresh:` interval is next due, and the lake's tables as loaded.
//!
//! `tweetlake run` promotes gold after every silver commit, every second or two on a live stream.
//! A model whose touched window is long (a day's entity ranking) then recomputes that whole window
//! each time, which grows with the day; `-- refresh: 5 minutes` lets it run at most that often
//! while the other models keep following silver. The clock lives as long as the process: a restart
//! refreshes every model once, and `promote gold` (a timer's one-off run) ignores it.
//!
//! The loaded tables save each round opening every table of the lake (listing its log, reading
//! its checkpoint, replaying its commits): a round reads only the commits since the last one
//! (`LakeCatalog::refresh`; a table recreated meanwhile is opened afresh). The lake is still
//! listed afresh every [`REOPEN_EVERY`], which drops tables deleted meanwhile, and after any
//! failed round.
//!
//! ```
//! # use std::time::{Duration, Instant};
//! # use tweetlake_gold::{Model, RefreshClock};
//! let model = Model::parse("sql/daily.sql".as_ref(), "-- refresh: 5 minutes\nSELECT 1".into())?;
//! let mut clock = RefreshClock::default();
//! let start = Instant::now();
//! assert!(clock.wait(&model, start).is_none()); // never refreshed here: due
//! clock.refreshed(&model.name, start);
//! assert_eq!(clock.wait(&model, start + Duration::from_secs(60)), Some(Duration::from_secs(240)));
//! # Ok::<(), tweetlake_gold::GoldError>(())
//! ```

use std::collections::HashMap;
use std::time::{Duration, Instant};

use tweetlake_core::delta::REOPEN_EVERY;
use tweetlake_core::LakeCatalog;

use crate::model::Model;

/// What `promote_gold_due` keeps between rounds.
#[derive(Debug, Default)]
pub struct GoldRounds {
    pub(crate) clock: RefreshClock,
    /// The lake's tables after the last round that succeeded, and when they were listed.
    catalog: Option<(LakeCatalog, Instant)>,
}

impl GoldRounds {
    /// The loaded tables, unless they were listed [`REOPEN_EVERY`] or longer before `now`.
    pub(crate) fn take_catalog(&mut self, now: Instant) -> Option<(LakeCatalog, Instant)> {
        self.catalog
            .take()
            .filter(|(_, listed_at)| now.duration_since(*listed_at) < REOPEN_EVERY)
    }

    pub(crate) fn keep_catalog(&mut self, catalog: LakeCatalog, listed_at: Instant) {
        self.catalog = Some((catalog, listed_at));
    }
}

/// When each model last wrote to its table in this process.
#[derive(Debug, Clone, Default)]
pub struct RefreshClock {
    last: HashMap<String, Instant>,
}

impl RefreshClock {
    /// How long `model` must still wait at `now`; `None` when it is due (it has no interval, has
    /// not written in this process, or its interval has passed).
    pub fn wait(&self, model: &Model, now: Instant) -> Option<Duration> {
        let every = model.refresh?;
        let last = self.last.get(&model.name)?;
        let next = *last + every;
        (next > now).then(|| next - now)
    }

    /// Records that `model` wrote its table at `at`. A round that found nothing new is not a
    /// refresh: the next change is then taken at once.
    pub fn refreshed(&mut self, model: &str, at: Instant) {
        self.last.insert(model.to_string(), at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(sql: &str) -> Model {
        Model::parse("sql/m.sql".as_ref(), sql.to_string()).unwrap()
    }

    #[test]
    fn a_model_waits_its_interval_after_writing_only() {
        let daily = model("-- refresh: 5 minutes\nSELECT 1");
        let every_round = model("SELECT 1");
        let mut clock = RefreshClock::default();
        let t0 = Instant::now();
        assert_eq!(clock.wait(&daily, t0), None);
        clock.refreshed("m", t0);
        assert_eq!(
            clock.wait(&daily, t0 + Duration::from_secs(299)),
            Some(Duration::from_secs(1))
        );
        assert_eq!(clock.wait(&daily, t0 + Duration::from_secs(300)), None);
        assert_eq!(clock.wait(&every_round, t0), None);
    }

    #[test]
    fn loaded_tables_are_listed_afresh_after_a_while_or_a_failure() {
        let mut rounds = GoldRounds::default();
        let t0 = Instant::now();
        assert!(rounds.take_catalog(t0).is_none());
        rounds.keep_catalog(LakeCatalog::default(), t0);
        let kept = rounds.take_catalog(t0 + REOPEN_EVERY / 2);
        assert!(kept.is_some());
        // Not given back (the round failed): the next round lists the lake.
        assert!(rounds.take_catalog(t0 + REOPEN_EVERY / 2).is_none());
        rounds.keep_catalog(LakeCatalog::default(), t0);
        assert!(rounds.take_catalog(t0 + REOPEN_EVERY).is_none());
    }
}
