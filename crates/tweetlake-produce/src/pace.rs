//! When the next message may go: at most `rate` per second, and with `speedup` at the pace its
//! `created_at` says (`1` = original pace, `60` = an hour a minute). A message without a time, or
//! one that is late, goes at once.

use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct Pacer {
    rate: Option<f64>,
    speedup: Option<f64>,
    started: Instant,
    sent: u64,
    /// The first event time seen (ms since the epoch), the origin of the replayed clock.
    first_event_ms: Option<i64>,
}

impl Pacer {
    pub fn new(rate: Option<f64>, speedup: Option<f64>) -> Self {
        Self {
            rate,
            speedup,
            started: Instant::now(),
            sent: 0,
            first_event_ms: None,
        }
    }

    /// The moment the next message (`value`) is due; counts it as sent.
    pub fn due(&mut self, value: &[u8]) -> Option<Instant> {
        let by_rate = self
            .rate
            .map(|r| self.started + Duration::from_secs_f64(self.sent as f64 / r));
        self.sent += 1;
        let by_time = self.speedup.and_then(|s| {
            let t = event_time_ms(value)?;
            let first = *self.first_event_ms.get_or_insert(t);
            let offset_ms = (t - first).max(0) as f64 / s;
            Some(self.started + Duration::from_secs_f64(offset_ms / 1000.0))
        });
        by_rate.into_iter().chain(by_time).max()
    }
}

/// A message's event time in ms, as the envelope probe (bronze's `event_time`) reads it:
/// `created_at` of a v1.1 tweet or a v2 `data`, or a delete's `timestamp_ms`.
pub fn event_time_ms(value: &[u8]) -> Option<i64> {
    let envelope = tweetlake_twitter::probe(value).ok()?;
    envelope.event_time_us.map(|us| us.div_euclid(1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_times_of_each_shape() {
        let v1 = br#"{"created_at":"Wed Oct 10 20:19:24 +0000 2018","id_str":"1","text":"a"}"#;
        assert_eq!(event_time_ms(v1), Some(1_539_202_764_000));
        let v2 = br#"{"data":{"id":"1","created_at":"2021-04-01T15:52:31.000Z"}}"#;
        assert_eq!(event_time_ms(v2), Some(1_617_292_351_000));
        let del = br#"{"delete":{"status":{"id":1},"timestamp_ms":"1617292351123"}}"#;
        assert_eq!(event_time_ms(del), Some(1_617_292_351_123));
        // No time of its own (a limit notice), or not JSON: it goes at once.
        assert_eq!(event_time_ms(br#"{"limit":{"track":3}}"#), None);
        assert_eq!(event_time_ms(b"{\"truncated"), None);
    }

    #[test]
    fn speedup_spaces_messages_by_their_times() {
        let mut p = Pacer::new(None, Some(60.0));
        let at = |s: &str| format!(r#"{{"data":{{"created_at":"{s}"}}}}"#).into_bytes();
        let t0 = p.due(&at("2021-04-01T15:00:00.000Z")).unwrap();
        let t1 = p.due(&at("2021-04-01T15:01:00.000Z")).unwrap();
        let late = p.due(&at("2021-04-01T14:59:00.000Z")).unwrap();
        assert_eq!(t1 - t0, Duration::from_secs(1));
        assert_eq!(late, t0);
        assert_eq!(p.due(b"{}"), None);

        let mut r = Pacer::new(Some(4.0), None);
        let first = r.due(b"{}").unwrap();
        assert_eq!(r.due(b"{}").unwrap() - first, Duration::from_millis(250));
    }
}
