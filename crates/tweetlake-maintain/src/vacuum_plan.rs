//! How a table is vacuumed, decided from what its incremental readers have consumed, apart from
//! the reads that find that out and the vacuum that carries it out.
//!
//! Danger: vacuum deletes data files for good. A file a commit removed is still needed by every
//! reader that has not consumed that commit (silver reads the bronze files a compaction replaced
//! until it has promoted past them), so the retention reaches back past the oldest unconsumed
//! commit, and only tombstones are trusted (Lite mode) while a reader lags.

use tweetlake_core::deltalake::operations::vacuum::VacuumMode;
use tweetlake_core::TableName;

/// The reader furthest behind on a table, of those that are behind at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lag {
    pub reader: TableName,
    /// The last version of the table it consumed.
    pub consumed: i64,
}

/// Of each reader's consumed version (`None`: never read it), the furthest behind `current`.
pub fn furthest_behind(
    consumed: impl IntoIterator<Item = (TableName, Option<i64>)>,
    current: i64,
) -> Option<Lag> {
    consumed
        .into_iter()
        .filter_map(|(reader, v)| {
            Some(Lag {
                reader,
                consumed: v.filter(|v| *v < current)?,
            })
        })
        .min_by_key(|lag| lag.consumed)
}

/// The vacuum to run.
#[derive(Debug, Clone, PartialEq)]
pub struct VacuumPlan {
    pub retention_hours: u64,
    pub mode: VacuumMode,
    /// Why the retention is above the configured one.
    pub raised_by: Option<String>,
}

/// The configured retention, raised to `age_hours + 1` of the first commit the furthest-behind
/// reader has not consumed (whole hours, one more, so that commit's own removals stay too).
/// Full mode also deletes orphans, which is safe only when no reader needs an old tombstone.
pub fn vacuum_plan(configured_hours: u64, lag: Option<(&Lag, i64)>) -> VacuumPlan {
    let keep = VacuumPlan {
        retention_hours: configured_hours,
        mode: VacuumMode::Full,
        raised_by: None,
    };
    let Some((lag, age_hours)) = lag else {
        return keep;
    };
    let needed = (age_hours.max(0) as u64) + 1;
    if needed <= configured_hours {
        return keep;
    }
    VacuumPlan {
        retention_hours: needed,
        mode: VacuumMode::Lite,
        raised_by: Some(format!(
            "{} has consumed only up to version {}",
            lag.reader, lag.consumed
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tweetlake_core::Layer;

    fn t(name: &str) -> TableName {
        TableName::new(Layer::Gold, name)
    }

    #[test]
    fn the_furthest_behind_reader_of_those_behind() {
        let readers = [
            (t("a"), Some(7)),
            (t("b"), Some(4)),
            (t("c"), None),
            (t("d"), Some(9)),
        ];
        assert_eq!(
            furthest_behind(readers.clone(), 9),
            Some(Lag {
                reader: t("b"),
                consumed: 4
            })
        );
        // Readers at the current version, or that never read the table, hold nothing back.
        assert_eq!(
            furthest_behind([(t("d"), Some(9)), (t("c"), None)], 9),
            None
        );
    }

    #[test]
    fn retention_is_raised_only_past_the_configured_one() {
        let lag = Lag {
            reader: t("hourly"),
            consumed: 12,
        };
        assert_eq!(
            vacuum_plan(168, None),
            VacuumPlan {
                retention_hours: 168,
                mode: VacuumMode::Full,
                raised_by: None
            }
        );
        // A commit 30 hours old, inside a week's retention: nothing to raise.
        assert_eq!(vacuum_plan(168, Some((&lag, 30))).retention_hours, 168);
        let raised = vacuum_plan(168, Some((&lag, 200)));
        assert_eq!(
            raised,
            VacuumPlan {
                retention_hours: 201,
                mode: VacuumMode::Lite,
                raised_by: Some("gold.hourly has consumed only up to version 12".into())
            }
        );
        // A clock behind the object store gives a negative age: one hour, not a panic.
        assert_eq!(vacuum_plan(0, Some((&lag, -5))).retention_hours, 1);
    }
}
