//! What one slice writes, decided without Delta from what it read and what silver held before
//! it: which tweets survive (no delete removes them, silver does not hold them yet), in id order
//! with their notices applied; which ids are new deletes; which rows a failed expectation sends
//! to the quarantine. `promote_slice` reads, asks this module, and writes what it answers.

use std::collections::{BTreeMap, HashMap, HashSet};

use tweetlake_twitter::Tweet;

use crate::bronze_read::BronzeRow;
use crate::expect::Expectations;
use crate::notices::{Notice, NoticeIndex};
use crate::rows::{Lineage, TweetRows};
use crate::side_tables::QuarantineRow;

use super::sorted::{Sorted, SortedTweet};

/// What silver held before the slice, as far as the slice's decisions need it.
#[derive(Debug, Default)]
pub(super) struct Held {
    /// Ids in silver/deletes: their tweets never enter silver, whenever they arrive.
    pub(super) deletes: HashSet<i64>,
    /// Notices in silver/notices: they apply to tweets that arrive after them too.
    pub(super) notices: Vec<Notice>,
}

/// The slice's tweets that no delete removes, earlier or in this slice, in id order: the ones
/// to look up in silver/tweets before the plan is made.
pub(super) fn undeleted(sorted: &mut Sorted, held: &Held) -> Vec<SortedTweet> {
    let gone: HashSet<i64> = held
        .deletes
        .iter()
        .copied()
        .chain(sorted.deletes.iter().map(|(_, d)| d.tweet_id))
        .collect();
    let mut tweets: Vec<SortedTweet> = std::mem::take(&mut sorted.tweets)
        .into_values()
        .filter(|(t, ..)| !gone.contains(&t.id))
        .collect();
    tweets.sort_by_key(|(t, ..)| t.id);
    tweets
}

/// Where each planned row came from: a failed expectation quarantines its raw JSON, read back
/// from this bronze file at this offset.
pub(super) struct Origin {
    pub(super) file: usize,
    pub(super) lineage: Lineage,
}

/// What the slice merges into silver/tweets and records in silver/deletes.
pub(super) struct SlicePlan {
    /// The tweets to enrich and merge, in id order, with every notice applied.
    pub(super) rows: TweetRows,
    /// One per row of `rows`, in the same order.
    pub(super) origins: Vec<Origin>,
    /// Ids this slice deletes (earlier deletes were applied when they came).
    pub(super) new_deletes: Vec<i64>,
    /// Undeleted tweets left out because silver/tweets holds them already.
    pub(super) already_stored: u64,
}

impl SlicePlan {
    /// `undeleted` comes from [`undeleted`]; `stored` is the ids among them that silver/tweets
    /// holds (a producer replay, a Kafka redelivery, files a bronze compaction rewrote, an earlier
    /// slice): the merge would skip them, so they are left out before NER.
    pub(super) fn decide(
        sorted: &Sorted,
        held: &Held,
        undeleted: Vec<SortedTweet>,
        stored: &HashSet<i64>,
    ) -> Self {
        let notices = NoticeIndex::new(
            held.notices
                .iter()
                .chain(sorted.notices.iter().map(|(_, n)| &n.notice)),
        );
        let mut rows = TweetRows::default();
        let mut origins = Vec::new();
        let mut already_stored = 0;
        for (tweet, lineage, file) in undeleted {
            if stored.contains(&tweet.id) {
                already_stored += 1;
                continue;
            }
            let tweet = with_notices(tweet, &notices);
            origins.push(Origin {
                file,
                lineage: lineage.clone(),
            });
            rows.push(tweet, lineage);
        }
        Self {
            rows,
            origins,
            new_deletes: sorted.deletes.iter().map(|(_, d)| d.tweet_id).collect(),
            already_stored,
        }
    }
}

fn with_notices(mut tweet: Tweet, notices: &NoticeIndex) -> Tweet {
    notices.apply(&mut tweet);
    tweet
}

/// The quarantine rows, with their bronze file's index, for the planned rows an expectation
/// dropped (`dropped`: row index and the rule that failed first). `raw_of` gives a row's raw JSON
/// by its bronze file and coordinates (see [`keep_raw`]).
pub(super) fn failed_expectations(
    dropped: &[(usize, String)],
    origins: &[Origin],
    expectations: &Expectations,
    raw_of: &HashMap<(usize, Lineage), String>,
) -> Vec<(usize, QuarantineRow)> {
    dropped
        .iter()
        .filter_map(|(i, rule)| {
            let origin = origins.get(*i)?;
            let check = expectations.check_of(rule).unwrap_or_default();
            let raw = raw_of.get(&(origin.file, origin.lineage.clone()));
            let row = QuarantineRow {
                raw: raw.cloned().unwrap_or_default(),
                error: format!("expectation `{rule}` failed: {check}"),
                rule: Some(rule.clone()),
                lineage: origin.lineage.clone(),
            };
            Some((origin.file, row))
        })
        .collect()
}

/// The rows whose raw JSON the quarantine needs, by bronze file index: the only files a slice
/// reads a second time, and only when an expectation dropped something.
pub(super) fn dropped_origins(
    dropped: &[(usize, String)],
    origins: &[Origin],
) -> BTreeMap<usize, HashSet<Lineage>> {
    let mut by_file: BTreeMap<usize, HashSet<Lineage>> = BTreeMap::new();
    for origin in dropped.iter().filter_map(|(i, _)| origins.get(*i)) {
        by_file
            .entry(origin.file)
            .or_default()
            .insert(origin.lineage.clone());
    }
    by_file
}

/// The raw JSON of the `wanted` rows among `rows` (bronze file `file`, read back), added to `into`
/// by file and coordinates.
pub(super) fn keep_raw(
    file: usize,
    rows: Vec<BronzeRow>,
    wanted: &HashSet<Lineage>,
    into: &mut HashMap<(usize, Lineage), String>,
) {
    let kept = rows.into_iter().filter(|r| wanted.contains(&r.lineage));
    into.extend(kept.map(|r| ((file, r.lineage), r.raw)));
}

#[cfg(test)]
mod tests;
