//! Where librdkafka's fetcher stands in each partition, from the client's statistics.
//!
//! A batch run (`ingest --until-caught-up`) stops when every partition is read to the end it had
//! at the start. The offset after the last *message* does not always get there: a partition that
//! ends in transaction markers (control records) or in a tail that log compaction emptied has
//! offsets no message carries. The fetcher still moves past them, and its next fetch offset is in
//! the statistics librdkafka reports, with the count of fetched messages not yet handed over.

use std::collections::HashMap;
use std::sync::Mutex;

use rdkafka::Statistics;

/// How often a batch run asks librdkafka for statistics.
pub const STATISTICS_INTERVAL_MS: &str = "500";

/// The fetcher's position in one partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchPosition {
    /// The next offset the fetcher will ask the broker for: past every record, control record and
    /// compacted gap it has read.
    pub next_fetch: i64,
    /// Fetched messages waiting in the client for the application to poll them.
    pub queued: i64,
}

/// The latest position of every partition the client fetches.
#[derive(Debug, Default)]
pub struct FetchPositions(Mutex<HashMap<(String, i32), FetchPosition>>);

impl FetchPositions {
    pub fn record(&self, statistics: &Statistics) {
        let Ok(mut positions) = self.0.lock() else {
            return;
        };
        for (topic, t) in &statistics.topics {
            // Partition -1 is librdkafka's internal "unassigned" queue.
            for p in t.partitions.values().filter(|p| p.partition >= 0) {
                if p.next_offset >= 0 {
                    positions.insert(
                        (topic.clone(), p.partition),
                        FetchPosition {
                            next_fetch: p.next_offset,
                            queued: p.fetchq_cnt,
                        },
                    );
                }
            }
        }
    }

    pub fn get(&self, topic: &str, partition: i32) -> Option<FetchPosition> {
        self.0
            .lock()
            .ok()?
            .get(&(topic.to_string(), partition))
            .copied()
    }
}

impl FetchPosition {
    /// Whether the fetcher has read up to `end` and handed every message over.
    pub fn reached(&self, end: i64) -> bool {
        self.next_fetch >= end && self.queued == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reached_needs_the_end_and_an_empty_queue() {
        let at = |next_fetch, queued| FetchPosition { next_fetch, queued };
        assert!(at(11, 0).reached(11));
        assert!(at(12, 0).reached(11));
        assert!(!at(10, 0).reached(11), "a commit marker at 10 not read yet");
        assert!(!at(11, 3).reached(11), "messages fetched but not polled");
    }
}
