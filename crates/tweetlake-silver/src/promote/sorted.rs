//! What one slice read from bronze, sorted into what each silver table gets: tweets (the last
//! of duplicates kept once), deletes, quarantined rows, compliance notices and stream events.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::Arc;

use tweetlake_core::deltalake::{ObjectStore, Path};
use tweetlake_core::Progress;

use tweetlake_twitter::{parse_message, Message, ParseError, Tweet};

use crate::bronze_read::{read_file, BronzeRow};
use crate::notices::{Notice, NoticeKind, NoticeRow};
use crate::rows::Lineage;
use crate::side_tables::{DeleteReason, DeleteRow, QuarantineRow};
use crate::SilverError;

/// A tweet as read: with its bronze coordinates and the index of its bronze file. Its raw JSON is
/// not kept (it is most of a slice's memory): the few rows an expectation drops are read back.
pub(super) type SortedTweet = (Tweet, Lineage, usize);

/// Reads and parses the rows of bronze `files`, in order.
pub(super) async fn read(
    store: &Arc<dyn ObjectStore>,
    files: &[Path],
    progress: &Progress,
) -> Result<Sorted, SilverError> {
    let mut sorted = Sorted::default();
    for (index, path) in files.iter().enumerate() {
        let rows = read_file(store.clone(), path.clone())
            .await
            .map_err(super::delta("reading bronze"))?;
        let parsed = parse_all(&rows);
        for (row, message) in rows.into_iter().zip(parsed) {
            sorted.add_parsed(index, row, message);
        }
        progress.advance(1);
    }
    Ok(sorted)
}

/// What one slice read, sorted into what each table gets.
#[derive(Default)]
pub(super) struct Sorted {
    /// Each tweet, once.
    pub(super) tweets: HashMap<i64, SortedTweet>,
    /// Side-table rows with the index of the bronze file they came from.
    pub(super) deletes: Vec<(usize, DeleteRow)>,
    pub(super) quarantine: Vec<(usize, QuarantineRow)>,
    pub(super) notices: Vec<(usize, NoticeRow)>,
    pub(super) events: Vec<(usize, &'static str, Option<i64>)>,
    pub(super) duplicates: u64,
    pub(super) rows: u64,
}

/// Each row parsed, in order, on every core.
pub(super) fn parse_all(rows: &[BronzeRow]) -> Vec<Result<Message, ParseError>> {
    crate::parallel::map_in_order(rows, |r| parse_message(r.raw.as_bytes()))
}

impl Sorted {
    #[cfg(test)]
    pub(super) fn add(&mut self, file: usize, row: BronzeRow) {
        let parsed = parse_message(row.raw.as_bytes());
        self.add_parsed(file, row, parsed);
    }

    /// Sorts `row`, which parsed as `parsed`.
    pub(super) fn add_parsed(
        &mut self,
        file: usize,
        row: BronzeRow,
        parsed: Result<Message, ParseError>,
    ) {
        self.rows += 1;
        let lineage = row.lineage;
        let mut notice = |kind, user_id, tweet_id, countries: Vec<String>| {
            let notice = Notice {
                kind,
                user_id,
                tweet_id,
            };
            let lineage = lineage.clone();
            self.notices.push((
                file,
                NoticeRow {
                    notice,
                    countries,
                    lineage,
                },
            ));
        };
        match parsed {
            Ok(Message::Tweet(t)) => {
                // Replays and redeliveries carry the same tweet again: the first copy stays.
                match self.tweets.entry(t.id) {
                    Entry::Occupied(_) => self.duplicates += 1,
                    Entry::Vacant(slot) => {
                        slot.insert((*t, lineage, file));
                    }
                }
            }
            Ok(Message::Delete {
                tweet_id,
                user_id,
                at_us,
            }) => self.deletes.push((
                file,
                DeleteRow {
                    tweet_id,
                    user_id,
                    at_us,
                    reason: DeleteReason::Deleted,
                    lineage,
                },
            )),
            Ok(Message::ScrubGeo {
                user_id,
                up_to_tweet_id,
            }) => {
                notice(
                    NoticeKind::ScrubGeo,
                    Some(user_id),
                    Some(up_to_tweet_id),
                    Vec::new(),
                );
                self.events.push((file, "scrub_geo", None));
            }
            Ok(Message::Withheld {
                tweet_id,
                user_id,
                countries,
            }) => {
                match tweet_id {
                    Some(_) => notice(NoticeKind::TweetWithheld, user_id, tweet_id, countries),
                    None => notice(NoticeKind::UserWithheld, user_id, None, countries),
                }
                self.events.push((file, "withheld", None));
            }
            Ok(Message::Limit { track, .. }) => self.events.push((file, "limit", Some(track))),
            Ok(Message::Warning { .. }) => self.events.push((file, "warning", None)),
            Ok(Message::Disconnect { .. }) => self.events.push((file, "disconnect", None)),
            Ok(Message::Compliance) => self.events.push((file, "compliance", None)),
            Ok(Message::Other) => self.events.push((file, "other", None)),
            Err(e) => self.quarantine.push((
                file,
                QuarantineRow {
                    raw: row.raw,
                    error: e.to_string(),
                    rule: None,
                    lineage,
                },
            )),
        }
    }

    /// An edited tweet's earlier versions leave silver like deleted ones: every id of an edit
    /// history but the last (the history is the same on every version).
    pub(super) fn supersede_edits(&mut self) {
        let mut superseded = Vec::new();
        for (t, lineage, file) in self.tweets.values() {
            if let Some((_, earlier)) = t.edit_history.split_last() {
                for id in earlier {
                    let row = DeleteRow {
                        tweet_id: *id,
                        user_id: t.author_id,
                        at_us: Some(t.created_at_us),
                        reason: DeleteReason::Edited,
                        lineage: lineage.clone(),
                    };
                    superseded.push((*file, row));
                }
            }
        }
        self.deletes.extend(superseded);
    }
}
