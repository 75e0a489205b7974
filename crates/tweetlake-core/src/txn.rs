//! Who has read how far: every writer that consumes a table incrementally records, in the Delta
//! log of the table it writes, a `txn` action whose application id names the reader and what it
//! read, and whose version says how far. Bronze's ingester records Kafka offsets; silver and gold
//! record the versions of the tables they read; maintenance reads those back to know which
//! versions a vacuum must keep. The ids are spelled here and nowhere else.

/// A reader that records its progress in a `txn` action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consumer<'a> {
    /// Bronze's ingester, for one topic-partition; the version is the last offset stored.
    Ingest { topic: &'a str, partition: i32 },
    /// silver/tweets, for one bronze table it reads.
    Silver { bronze_table: &'a str },
    /// A gold table, for one source it reads (`layer.table`).
    Gold { source: &'a str },
}

impl Consumer<'_> {
    /// The `txn` application id under the lake's id (`lake.app_id`):
    /// `<lake>-<topic>-<partition>`, `<lake>-silver-<bronze table>`, `<lake>-gold-<layer>.<table>`.
    pub fn app_id(&self, lake: &str) -> String {
        match self {
            Consumer::Ingest { topic, partition } => format!("{lake}-{topic}-{partition}"),
            Consumer::Silver { bronze_table } => format!("{lake}-silver-{bronze_table}"),
            Consumer::Gold { source } => format!("{lake}-gold-{source}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Consumer;

    /// These ids are in every lake's Delta logs already: changing one loses the progress
    /// recorded under it (a full re-ingest or re-promotion), so they are pinned here.
    #[test]
    fn ids_are_the_ones_in_existing_logs() {
        let ids = [
            Consumer::Ingest {
                topic: "tweets",
                partition: 2,
            },
            Consumer::Silver {
                bronze_table: "tweets",
            },
            Consumer::Gold {
                source: "silver.tweets",
            },
        ]
        .map(|c| c.app_id("tweetlake"));
        assert_eq!(
            ids,
            [
                "tweetlake-tweets-2",
                "tweetlake-silver-tweets",
                "tweetlake-gold-silver.tweets"
            ]
        );
    }
}
