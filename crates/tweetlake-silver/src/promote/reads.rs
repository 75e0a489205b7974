//! What a promotion reads besides bronze's new rows: which bronze files are new, the raw JSON of
//! rows read back for the quarantine, what silver's deletes and notices hold, and which of the
//! round's tweets silver/tweets already stores.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use tweetlake_core::delta::{data_changes, exists, file_changes};
use tweetlake_core::deltalake::{DeltaTable, DeltaTableError, ObjectStore, Path};

use super::{delta, plan, Held, SortedTweet, Tables};
use crate::bronze_read::{read_file, read_ids, stored_ids};
use crate::notices::read_notices;
use crate::rows::{event_date, Lineage};
use crate::schema::PARTITION_COLUMN;
use crate::SilverError;

/// The bronze files whose rows are new since version `since`, up to the version `bronze` is loaded
/// at: what appends added, never a compaction's rewrite of rows silver has read already. Where log
/// cleanup removed commits of that range, the snapshots are compared instead; a compacted file
/// is then read again, and only silver/tweets' merge keeps that from counting twice.
pub(super) async fn new_files(
    bronze: &DeltaTable,
    since: Option<i64>,
) -> Result<Vec<Path>, SilverError> {
    if let Some(changes) = data_changes(bronze, since)
        .await
        .map_err(delta("reading bronze's log"))?
    {
        return Ok(changes.added);
    }
    tracing::warn!(
        since,
        "bronze's log no longer has every commit since the version silver consumed; \
         comparing snapshots instead"
    );
    Ok(file_changes(bronze, since)
        .await
        .map_err(delta("listing bronze files"))?
        .added)
}

/// The raw JSON of the `wanted` rows, read back from their bronze files (indexes into `files`).
pub(super) async fn read_back(
    store: &Arc<dyn ObjectStore>,
    files: &[Path],
    wanted: &BTreeMap<usize, HashSet<Lineage>>,
) -> Result<HashMap<(usize, Lineage), String>, SilverError> {
    let mut raw = HashMap::new();
    for (index, lineages) in wanted {
        let Some(path) = files.get(*index) else {
            continue;
        };
        let rows = read_file(store.clone(), path.clone())
            .await
            .map_err(delta("reading bronze again for the quarantine"))?;
        plan::keep_raw(*index, rows, lineages, &mut raw);
    }
    Ok(raw)
}

/// What silver/deletes and silver/notices hold.
pub(super) async fn read_held(tables: &Tables) -> Result<Held, SilverError> {
    let mut held = Held::default();
    if exists(&tables.deletes) {
        held.deletes = read_ids(&tables.deletes, "tweet_id")
            .await
            .map_err(delta("reading silver/deletes"))?;
    }
    if exists(&tables.notices) {
        held.notices = read_notices(&tables.notices)
            .await
            .map_err(delta("reading silver/notices"))?;
    }
    Ok(held)
}

/// The ids among `tweets` that silver/tweets holds, looked up in their event dates only.
pub(super) async fn already_stored(
    table: &DeltaTable,
    tweets: &[SortedTweet],
) -> Result<HashSet<i64>, DeltaTableError> {
    let ids: HashSet<i64> = tweets.iter().map(|(t, ..)| t.id).collect();
    let days: std::collections::BTreeSet<i32> = tweets
        .iter()
        .map(|(t, ..)| event_date(t.created_at_us))
        .collect();
    let dates: Vec<String> = days
        .into_iter()
        .filter_map(|d| chrono::DateTime::from_timestamp(i64::from(d) * 86_400, 0))
        .map(|t| t.date_naive().to_string())
        .collect();
    stored_ids(table, (PARTITION_COLUMN, &dates), &ids).await
}
