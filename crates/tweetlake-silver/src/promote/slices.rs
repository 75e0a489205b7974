//! A run over a large bronze backlog (a first run, a `--full-refresh`) in slices of whole bronze
//! commits, each committed to silver on its own, so that memory stays bounded by the slice and a
//! crash loses at most one slice of work. Each slice is exactly an incremental run to its end.

use tracing::warn;
use tweetlake_core::delta::commits::read_commits;
use tweetlake_core::deltalake::{DeltaTable, DeltaTableError};

/// The bronze versions a run over `(from, to]` commits at, in order, the last being `to`: each
/// slice adds about `max_rows` new bronze rows, a larger single commit being a slice of its own.
/// A compaction adds no new rows. Commits that log cleanup already removed count as empty, so
/// they join the first slice.
pub(super) async fn slice_ends(
    bronze: &DeltaTable,
    from: Option<i64>,
    to: i64,
    max_rows: u64,
) -> Result<Vec<i64>, DeltaTableError> {
    let first = from.map_or(0, |v| v + 1);
    if to <= first {
        return Ok(vec![to]);
    }
    let rows: Vec<Option<u64>> = read_commits(&bronze.object_store(), first, to)
        .await?
        .iter()
        .map(|commit| commit.as_ref().map(|c| c.new_rows()))
        .collect();
    let missing = rows.iter().filter(|r| r.is_none()).count();
    if missing > 0 {
        warn!(
            missing,
            "bronze's log no longer has every commit since version {first}; their rows join the first slice"
        );
    }
    Ok(ends(first, &rows, max_rows))
}

/// Cuts after the commit at which the rows since the last cut reach `max_rows`.
fn ends(first: i64, rows: &[Option<u64>], max_rows: u64) -> Vec<i64> {
    let mut out = Vec::new();
    let mut acc = 0u64;
    let last = first + rows.len() as i64 - 1;
    for (version, n) in (first..).zip(rows) {
        let Some(n) = n else { continue };
        acc += n;
        if acc >= max_rows && version < last {
            out.push(version);
            acc = 0;
        }
    }
    out.push(last);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_where_the_rows_reach_the_budget() {
        let rows = [Some(40), Some(70), Some(10), Some(200), Some(5), Some(5)];
        // 40+70 ≥ 100 at v2; 10+200 at v4; the rest ends at v6.
        assert_eq!(ends(1, &rows, 100), vec![2, 4, 6]);
        assert_eq!(ends(1, &rows, 1_000), vec![6]);
        assert_eq!(ends(0, &[Some(500)], 100), vec![0]);
    }

    #[test]
    fn missing_commits_join_the_first_slice() {
        let rows = [None, None, Some(60), Some(60), Some(60)];
        assert_eq!(ends(0, &rows, 100), vec![3, 4]);
    }
}
