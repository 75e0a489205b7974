use std::time::Duration;

use super::*;

fn settings(dir: &Path, segment_bytes: u64) -> SpoolSettings {
    SpoolSettings {
        dir: dir.to_path_buf(),
        segment_bytes,
        max_bytes: 1 << 30,
        fsync: Fsync::Interval(Duration::from_millis(50)),
    }
}

fn record(i: usize) -> SpoolRecord {
    SpoolRecord {
        topic: if i.is_multiple_of(3) {
            "tweets.ai"
        } else {
            "tweets.generic"
        }
        .into(),
        key: (!i.is_multiple_of(5)).then(|| i.to_string().into_bytes()),
        value: format!("{{\"id\":{i},\"text\":\"{}\"}}", "x".repeat(i % 200)).into_bytes(),
        possibly_delivered: i.is_multiple_of(7),
    }
}

/// Replays the whole spool the way the sink does: segment by segment, deleting each.
fn drain(spool: &mut Spool) -> Vec<SpoolRecord> {
    let mut out = Vec::new();
    while let Some(mut seg) = spool.oldest().unwrap() {
        while let Some((_, r)) = seg.next_record().unwrap() {
            out.push(r);
        }
        spool.remove(seg.segment).unwrap();
    }
    out
}

#[test]
fn records_come_back_in_order_across_segments_and_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let expected: Vec<SpoolRecord> = (0..500).map(record).collect();
    {
        let mut spool = Spool::open(settings(dir.path(), 4096)).unwrap();
        for r in &expected[..300] {
            spool.append(r).unwrap();
        }
    }
    let mut spool = Spool::open(settings(dir.path(), 4096)).unwrap();
    assert!(!spool.is_empty());
    for r in &expected[300..] {
        spool.append(r).unwrap();
    }
    let segments = std::fs::read_dir(dir.path()).unwrap().count();
    assert!(segments > 5, "{segments} segments");
    assert_eq!(drain(&mut spool), expected);
    assert!(spool.is_empty());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn a_torn_tail_is_cut_and_everything_before_it_kept() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut spool = Spool::open(settings(dir.path(), 1 << 20)).unwrap();
        for i in 0..10 {
            spool.append(&record(i)).unwrap();
        }
    }
    let seg = segment_path(dir.path(), 1);
    let full = std::fs::metadata(&seg).unwrap().len();
    // A crash in the middle of writing record 10: its header and half its body made it.
    let body = encode(&record(10));
    let mut f = OpenOptions::new().append(true).open(&seg).unwrap();
    f.write_all(&(body.len() as u32).to_le_bytes()).unwrap();
    f.write_all(&crc32fast::hash(&body).to_le_bytes()).unwrap();
    f.write_all(&body[..body.len() / 2]).unwrap();
    drop(f);
    let mut spool = Spool::open(settings(dir.path(), 1 << 20)).unwrap();
    assert_eq!(std::fs::metadata(&seg).unwrap().len(), full);
    assert_eq!(spool.bytes(), full);
    spool.append(&record(11)).unwrap();
    let mut expected: Vec<_> = (0..10).map(record).collect();
    expected.push(record(11));
    assert_eq!(drain(&mut spool), expected);
}

#[test]
fn a_bad_checksum_in_a_sealed_segment_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut spool = Spool::open(settings(dir.path(), 1 << 20)).unwrap();
        for i in 0..5 {
            spool.append(&record(i)).unwrap();
        }
    }
    let seg = segment_path(dir.path(), 1);
    let mut bytes = std::fs::read(&seg).unwrap();
    let first_len = HEADER + u32::from_le_bytes(bytes[..4].try_into().unwrap()) as usize;
    bytes[first_len + HEADER + 3] ^= 0xff; // inside record 1's body
    std::fs::write(&seg, &bytes).unwrap();
    // Not the tail of the newest segment any more once another segment follows it.
    std::fs::write(segment_path(dir.path(), 2), b"").unwrap();
    let mut spool = Spool::open(settings(dir.path(), 1 << 20)).unwrap();
    let mut seg_records = spool.oldest().unwrap().unwrap();
    assert_eq!(seg_records.next_record().unwrap().unwrap().1, record(0));
    let err = seg_records.next_record().unwrap_err().to_string();
    assert!(err.contains("00000000000000000001.seg"), "{err}");
    assert!(err.contains(&format!("byte {first_len}")), "{err}");
    assert!(err.contains("checksum"), "{err}");
}

#[test]
fn the_delivered_cursor_skips_what_a_replay_already_sent() {
    let dir = tempfile::tempdir().unwrap();
    let mut spool = Spool::open(settings(dir.path(), 1 << 20)).unwrap();
    for i in 0..8 {
        spool.append(&record(i)).unwrap();
    }
    let seg = spool.oldest().unwrap().unwrap().segment;
    spool.set_delivered(seg, 5, 7).unwrap();
    drop(spool);
    let mut spool = Spool::open(settings(dir.path(), 1 << 20)).unwrap();
    let mut rest = spool.oldest().unwrap().unwrap();
    let mut got = Vec::new();
    while let Some((i, r)) = rest.next_record().unwrap() {
        got.push((i, r));
    }
    assert_eq!(
        rest.possibly_sent_until, 7,
        "records 5 and 6 may have been sent"
    );
    assert_eq!(
        got,
        (5..8).map(|i| (i as u64, record(i))).collect::<Vec<_>>()
    );
}

#[test]
fn the_cap_says_full_and_removing_frees_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(dir.path(), 2048);
    s.max_bytes = 4096;
    let mut spool = Spool::open(s).unwrap();
    let mut n = 0;
    while !spool.is_full() {
        spool.append(&record(n)).unwrap();
        n += 1;
    }
    assert!(spool.bytes() >= 4096);
    let seg = spool.oldest().unwrap().unwrap().segment;
    spool.remove(seg).unwrap();
    assert!(!spool.is_full());
}
