//! The tables one promotion reads and writes, and the handles a [`super::Promoter`] keeps between
//! promotions: `tweetlake run` promotes every second or two, and opening the six silver tables and
//! bronze afresh each time (listing each log, reading its checkpoint, replaying its commits) was a
//! third of a round. A kept handle reads only the commits since (`reopen_latest`, which opens a
//! table recreated meanwhile afresh); handles are dropped after a promotion that failed and
//! reopened every [`REOPEN_EVERY`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use tweetlake_core::delta::{reopen_latest, REOPEN_EVERY};
use tweetlake_core::deltalake::DeltaTable;
use tweetlake_core::tables::silver;
use tweetlake_core::{Lake, Layer};

use crate::SilverError;

/// The silver tables, opened.
pub(super) struct Tables {
    pub(super) tweets: DeltaTable,
    pub(super) deletes: DeltaTable,
    pub(super) quarantine: DeltaTable,
    pub(super) events: DeltaTable,
    pub(super) quality: DeltaTable,
    pub(super) notices: DeltaTable,
}

impl Tables {
    /// Each table at its latest version: `kept` brought up to date, or opened.
    pub(super) async fn open(lake: &Lake, kept: Option<Tables>) -> Result<Self, SilverError> {
        let open = |name: &'static str, kept: Option<DeltaTable>| {
            let url = lake.table_url(Layer::Silver, name);
            async move { reopen_latest(kept, &url, lake.storage_options()).await }
        };
        let mut kept = kept.map(|t| {
            [
                t.tweets,
                t.deletes,
                t.quarantine,
                t.events,
                t.quality,
                t.notices,
            ]
            .map(Some)
        });
        let mut take = |i: usize| kept.as_mut().and_then(|k| k.get_mut(i)?.take());
        // Side by side: on S3 each is a few requests.
        let (tweets, deletes, quarantine, events, quality, notices) = futures::try_join!(
            open(silver::TWEETS, take(0)),
            open(silver::DELETES, take(1)),
            open(silver::QUARANTINE, take(2)),
            open(silver::STREAM_EVENTS, take(3)),
            open(silver::QUALITY, take(4)),
            open(silver::NOTICES, take(5)),
        )?;
        Ok(Self {
            tweets,
            deletes,
            quarantine,
            events,
            quality,
            notices,
        })
    }
}

/// The handles of the last promotion that succeeded: silver's tables and each bronze table read.
#[derive(Default)]
pub(super) struct KeptTables {
    kept: Mutex<Option<Kept>>,
}

struct Kept {
    silver: Tables,
    bronze: HashMap<String, DeltaTable>,
    opened_at: Instant,
}

/// What a promotion starts from: handles to bring up to date, and when they were first opened.
pub(super) struct Taken {
    pub(super) silver: Option<Tables>,
    pub(super) bronze: Option<DeltaTable>,
    pub(super) opened_at: Instant,
    others: HashMap<String, DeltaTable>,
}

impl KeptTables {
    /// The kept handles for a promotion from `bronze_table`, unless they were opened
    /// [`REOPEN_EVERY`] or longer before `now`. Until given back they are gone, so a promotion
    /// that fails opens everything afresh next time.
    pub(super) fn take(&self, bronze_table: &str, now: Instant) -> Taken {
        let kept = match self.kept.lock() {
            Ok(mut kept) => kept.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        match kept.filter(|k| now.duration_since(k.opened_at) < REOPEN_EVERY) {
            Some(mut kept) => Taken {
                bronze: kept.bronze.remove(bronze_table),
                silver: Some(kept.silver),
                opened_at: kept.opened_at,
                others: kept.bronze,
            },
            None => Taken {
                silver: None,
                bronze: None,
                opened_at: now,
                others: HashMap::new(),
            },
        }
    }

    /// Keeps the handles a successful promotion from `bronze_table` ends with.
    pub(super) fn give_back(
        &self,
        taken: Taken,
        bronze_table: &str,
        bronze: DeltaTable,
        silver: Tables,
    ) {
        let mut others = taken.others;
        others.insert(bronze_table.to_string(), bronze);
        let kept = Kept {
            silver,
            bronze: others,
            opened_at: taken.opened_at,
        };
        match self.kept.lock() {
            Ok(mut slot) => *slot = Some(kept),
            Err(poisoned) => *poisoned.into_inner() = Some(kept),
        }
    }
}
