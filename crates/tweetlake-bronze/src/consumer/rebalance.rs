//! Assignments of the consumer thread: every newly assigned partition starts at the offset after
//! the last one in the Delta log, once the broker is shown to still hold it; revocations and
//! errors become notes the loop passes on to the writer in order.

use std::sync::Mutex;
use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, RebalanceProtocol};
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaRespErr;
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use tokio::runtime::Handle;
use tracing::{error, info, warn};

use crate::broker_range::check_start;
use crate::chunk::TopicPartition;
use crate::fetch_position::FetchPositions;
use crate::output::{PartitionStart, TableLocation};

pub(super) enum Note {
    Assigned(Vec<PartitionStart>),
    Revoked(Vec<TopicPartition>),
    Failed(String),
}

pub(super) struct RebalanceContext {
    pub(super) store: TableLocation,
    pub(super) runtime: Handle,
    pub(super) notes: Mutex<Vec<Note>>,
    pub(super) fetched: FetchPositions,
    /// Settings of the short-lived consumer that fetches a stored offset to confirm it.
    pub(super) probe: ClientConfig,
}

impl ClientContext for RebalanceContext {
    fn stats(&self, statistics: rdkafka::Statistics) {
        self.fetched.record(&statistics);
    }
}

impl ConsumerContext for RebalanceContext {
    /// Seeks every newly assigned partition to the offset after the last one in the Delta log.
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        tpl: &mut TopicPartitionList,
    ) {
        let cooperative = matches!(
            consumer.rebalance_protocol(),
            RebalanceProtocol::Cooperative
        );
        let tps: Vec<TopicPartition> = tpl
            .elements()
            .iter()
            .map(|e| TopicPartition {
                topic: e.topic().into(),
                partition: e.partition(),
            })
            .collect();
        let note = match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                let loaded = self
                    .runtime
                    .block_on(crate::output::load_starts(&self.store, &tps));
                let checked = loaded
                    .map_err(|e| format!("reading stored offsets: {e}"))
                    .and_then(|starts| {
                        for s in &starts {
                            check_start(consumer, &self.probe, s).map_err(|e| e.to_string())?;
                        }
                        Ok(starts)
                    });
                let starts = match checked {
                    Ok(starts) => starts,
                    Err(why) => {
                        // Nothing is assigned: no message of a partition that failed is read.
                        if let Ok(mut notes) = self.notes.lock() {
                            notes.push(Note::Failed(why));
                        }
                        return;
                    }
                };
                for s in &starts {
                    let offset = s.resume_offset().map_or(Offset::Beginning, Offset::Offset);
                    if let Err(e) = tpl.set_partition_offset(&s.tp.topic, s.tp.partition, offset) {
                        warn!(partition = %s.tp, error = %e, "cannot set start offset");
                    }
                }
                info!(partitions = ?starts.iter().map(|s| (s.tp.to_string(), s.resume_offset())).collect::<Vec<_>>(), "assigned");
                let note = Note::Assigned(starts);
                let res = if cooperative {
                    consumer.incremental_assign(tpl)
                } else {
                    consumer.assign(tpl)
                };
                if let Err(e) = res {
                    error!(error = %e, "assign failed");
                }
                note
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                info!(partitions = ?tps.iter().map(ToString::to_string).collect::<Vec<_>>(), "revoked");
                let res = if cooperative {
                    consumer.incremental_unassign(tpl)
                } else {
                    consumer.unassign()
                };
                if let Err(e) = res {
                    error!(error = %e, "unassign failed");
                }
                Note::Revoked(tps)
            }
            other => {
                warn!(error = ?other, "rebalance error");
                let _ = consumer.unassign();
                Note::Revoked(tps)
            }
        };
        if let Ok(mut notes) = self.notes.lock() {
            notes.push(note);
        }
    }
}

/// The table's client settings for a probe that only fetches: its own group, which it never
/// joins or commits to.
pub(super) fn probe_config(client: &ClientConfig) -> ClientConfig {
    let mut probe = client.clone();
    let group = probe.get("group.id").unwrap_or("tweetlake").to_string();
    probe.set("group.id", format!("{group}.probe"));
    probe.remove("statistics.interval.ms");
    probe
}

/// Assigns every partition of `topics` at the offsets stored in the Delta log, like a rebalance would.
pub(super) fn assign_all(
    consumer: &BaseConsumer<RebalanceContext>,
    topics: &[String],
) -> Result<(), KafkaError> {
    let mut tpl = TopicPartitionList::new();
    for topic in topics {
        let md = consumer.fetch_metadata(Some(topic), Duration::from_secs(15))?;
        for t in md.topics().iter().filter(|t| t.name() == topic) {
            for p in t.partitions() {
                tpl.add_partition(topic, p.id());
            }
        }
    }
    consumer.context().rebalance(
        consumer,
        RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS,
        &mut tpl,
    );
    Ok(())
}
