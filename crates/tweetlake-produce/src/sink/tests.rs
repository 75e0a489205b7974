//! The sink against librdkafka's mock cluster: a broker taken down mid-stream sends messages to the
//! spool, and bringing it back replays them; nothing is lost.

use std::collections::BTreeSet;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::mocking::MockCluster;
use rdkafka::{Offset, TopicPartitionList};

use super::*;
use tweetlake_core::config::Fsync;

fn settings(dir: &std::path::Path) -> SinkSettings {
    SinkSettings {
        spool: SpoolSettings {
            dir: dir.to_path_buf(),
            segment_bytes: 16 * 1024,
            max_bytes: 64 << 20,
            fsync: Fsync::Never,
        },
        max_in_flight: 10_000,
        stall_after: Duration::from_millis(700),
        probe_interval: Duration::from_millis(200),
    }
}

fn message(i: u64) -> Outgoing {
    Outgoing {
        topic: "t".into(),
        key: Some(i.to_string().into_bytes()),
        value: format!("{{\"data\":{{\"id\":\"{i}\"}}}}").into_bytes(),
    }
}

fn run_until(sink: &mut KafkaSink, limit: Duration, done: impl Fn(&KafkaSink) -> bool) {
    let start = Instant::now();
    while !done(sink) {
        assert!(start.elapsed() < limit, "timed out");
        sink.tick(Duration::from_millis(20)).unwrap();
    }
}

fn keys_in_topic(servers: &str, partitions: i32) -> Vec<u64> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", servers)
        .set("group.id", "check")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition_offset("t", p, Offset::Beginning).unwrap();
    }
    consumer.assign(&tpl).unwrap();
    let mut keys = Vec::new();
    let mut quiet = Instant::now();
    while quiet.elapsed() < Duration::from_secs(3) {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
            let k = std::str::from_utf8(m.key().unwrap())
                .unwrap()
                .parse()
                .unwrap();
            keys.push(k);
            quiet = Instant::now();
        }
    }
    keys
}

#[test]
fn a_broker_outage_spools_and_the_return_replays_everything() {
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("t", 2, 1).unwrap();
    let servers = mock.bootstrap_servers();
    let dir = tempfile::tempdir().unwrap();
    let mut client = ClientConfig::new();
    client
        .set("bootstrap.servers", &servers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("message.timeout.ms", "1500");
    let metrics = Arc::new(SinkMetrics::default());
    let mut sink = KafkaSink::new(&client, settings(dir.path()), metrics.clone()).unwrap();

    for i in 0..1000 {
        sink.send(message(i)).unwrap();
    }
    run_until(&mut sink, Duration::from_secs(30), KafkaSink::idle);
    assert_eq!(metrics.delivered.load(Ordering::Relaxed), 1000);

    mock.broker_down(1).unwrap();
    for i in 1000..3000 {
        while !sink.ready() {
            sink.tick(Duration::from_millis(10)).unwrap();
        }
        sink.send(message(i)).unwrap();
        if i.is_multiple_of(100) {
            sink.tick(Duration::from_millis(10)).unwrap();
        }
    }
    run_until(&mut sink, Duration::from_secs(30), |s| s.in_flight == 0);
    let spooled = metrics.spooled.load(Ordering::Relaxed);
    assert!(spooled > 0, "nothing spooled while the broker was down");
    assert!(!sink.spool.is_empty());

    mock.broker_up(1).unwrap();
    run_until(&mut sink, Duration::from_secs(60), KafkaSink::idle);
    assert!(metrics.replayed.load(Ordering::Relaxed) >= spooled);
    // At least one return; a delivery report of a message sent just before the outage can land
    // after the stall was declared and count as a second one on a busy machine (nothing is lost
    // either way: the key check below).
    assert!(metrics.reconnects.load(Ordering::Relaxed) >= 1);
    assert!(sink.spool.is_empty());
    sink.close(Duration::from_secs(5)).unwrap();
    let segments = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(segments, 0, "delivered segments are deleted");

    let keys: BTreeSet<u64> = keys_in_topic(&servers, 2).into_iter().collect();
    assert_eq!(keys, (0..3000).collect::<BTreeSet<u64>>());
}
