//! The time windows a source change touches, and the predicates that select them.
//!
//! A change is read from the data files two versions differ by: appended rows are exactly the
//! new or late rows; a delete or update rewrites whole files, so every window of a rewritten
//! file is recomputed (a superset of the changed rows' windows, which gives the same result).

use std::collections::BTreeSet;

use tweetlake_core::delta::{read_columns, FileChanges};
use tweetlake_core::deltalake::arrow::array::{Array, AsArray};
use tweetlake_core::deltalake::arrow::compute::cast;
use tweetlake_core::deltalake::arrow::datatypes::{DataType, TimeUnit, TimestampMicrosecondType};
use tweetlake_core::deltalake::datafusion::common::{Column, ScalarValue};
use tweetlake_core::deltalake::datafusion::logical_expr::{lit, Expr};
use tweetlake_core::deltalake::DeltaTable;

use crate::model::Window;
use crate::GoldError;

/// More separate ranges than this are merged into one span: a predicate stays small, and the
/// windows in between are recomputed to the same values.
const MAX_RANGES: usize = 256;

/// A set of windows of one length, by start (microseconds since the epoch, UTC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowSet {
    window: Window,
    starts: BTreeSet<i64>,
}

impl WindowSet {
    pub fn new(window: Window) -> WindowSet {
        WindowSet {
            window,
            starts: BTreeSet::new(),
        }
    }

    /// Adds the window holding the instant `us`.
    pub fn add_instant(&mut self, us: i64) {
        self.starts.insert(self.window.floor(us));
    }

    pub fn len(&self) -> usize {
        self.starts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// Adjacent windows merged into `[start, end)` ranges.
    pub fn ranges(&self) -> Vec<(i64, i64)> {
        let step = self.window.micros();
        let mut ranges: Vec<(i64, i64)> = Vec::new();
        for &start in &self.starts {
            match ranges.last_mut() {
                Some((_, end)) if *end == start => *end = start + step,
                _ => ranges.push((start, start + step)),
            }
        }
        if ranges.len() > MAX_RANGES {
            let (first, last) = (ranges[0].0, ranges[ranges.len() - 1].1);
            return vec![(first, last)];
        }
        ranges
    }

    /// `column` within any of the ranges.
    pub fn predicate(&self, column: &str) -> Expr {
        let column = Expr::Column(Column::from_name(column));
        self.ranges()
            .into_iter()
            .map(|(start, end)| {
                column
                    .clone()
                    .gt_eq(timestamp(start))
                    .and(column.clone().lt(timestamp(end)))
            })
            .reduce(Expr::or)
            .unwrap_or(lit(false))
    }
}

fn timestamp(us: i64) -> Expr {
    lit(ScalarValue::TimestampMicrosecond(
        Some(us),
        Some("UTC".into()),
    ))
}

/// Adds to `windows` every window of `column` values in the files of `changes`.
pub async fn add_changed_windows(
    windows: &mut WindowSet,
    table: &DeltaTable,
    changes: &FileChanges,
    column: &str,
) -> Result<(), GoldError> {
    let store = table.object_store();
    for path in changes.added.iter().chain(&changes.removed) {
        let batches = read_columns(&store, path, &[column])
            .await
            .map_err(|source| GoldError::Delta {
                what: format!("reading `{column}` from {path}"),
                source: Box::new(source),
            })?;
        for batch in batches {
            let Some(values) = batch.column_by_name(column) else {
                return Err(GoldError::Query(format!("{path} has no column `{column}`")));
            };
            let micros = cast(values, &DataType::Timestamp(TimeUnit::Microsecond, None))
                .map_err(|e| GoldError::Query(format!("`{column}` in {path}: {e}")))?;
            let micros = micros.as_primitive::<TimestampMicrosecondType>();
            for i in 0..micros.len() {
                if micros.is_valid(i) {
                    windows.add_instant(micros.value(i));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adjacent_windows_merge_into_ranges() {
        let w = Window::parse("5 minutes").unwrap();
        let mut set = WindowSet::new(w);
        for us in [0, 299_999_999, 300_000_000, 900_000_001, 1_200_000_000] {
            set.add_instant(us);
        }
        assert_eq!(set.len(), 4);
        assert_eq!(
            set.ranges(),
            [(0, 600_000_000), (900_000_000, 1_500_000_000)]
        );
        let text = set.predicate("window_start").to_string();
        assert_eq!(text.matches(" OR ").count(), 1, "{text}");
    }

    #[test]
    fn very_scattered_windows_become_one_span() {
        let w = Window::parse("1 minute").unwrap();
        let mut set = WindowSet::new(w);
        for i in 0..(MAX_RANGES as i64 + 1) {
            set.add_instant(i * 120_000_000);
        }
        assert_eq!(
            set.ranges(),
            [(0, MAX_RANGES as i64 * 120_000_000 + 60_000_000)]
        );
    }
}
