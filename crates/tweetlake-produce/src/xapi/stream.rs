//! The filtered stream (`GET /2/tweets/search/stream`): one long HTTP response of `\r\n`-separated
//! JSON messages and keep-alive newlines. Follows it across reconnects the way the API asks —
//! immediately after a drop, then linear backoff for network errors, exponential for HTTP errors,
//! longer for 429 — and hands every line on as received, a truncated one included.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tracing::{info, info_span, warn, Instrument};

use super::{http_error, XApiClient, XApiError};

pub const STREAM_PATH: &str = "/2/tweets/search/stream";

/// What a lake wants with each tweet: its author, place and referenced tweets expanded, and the
/// fields analysis uses. `matching_rules` comes with every message by default.
pub const STREAM_QUERY: &str = concat!(
    "tweet.fields=attachments,author_id,context_annotations,conversation_id,created_at,",
    "edit_controls,edit_history_tweet_ids,entities,geo,id,in_reply_to_user_id,lang,",
    "possibly_sensitive,public_metrics,referenced_tweets,reply_settings,source,text,withheld",
    "&expansions=author_id,geo.place_id,referenced_tweets.id,referenced_tweets.id.author_id,",
    "in_reply_to_user_id,entities.mentions.username,attachments.media_keys",
    "&user.fields=created_at,description,location,name,profile_image_url,public_metrics,",
    "username,verified,withheld",
    "&place.fields=contained_within,country,country_code,full_name,geo,id,name,place_type",
    "&media.fields=duration_ms,height,media_key,preview_image_url,type,url,width,public_metrics"
);

/// Waits between attempts; the defaults are the API's published reconnection guidance.
#[derive(Debug, Clone)]
pub struct BackoffPolicy {
    /// Network errors: this much longer each attempt…
    pub network_step: Duration,
    /// …up to this.
    pub network_max: Duration,
    /// HTTP errors: this, doubling each attempt…
    pub http_start: Duration,
    pub http_max: Duration,
    /// HTTP 429: this, doubling each attempt (or until `x-rate-limit-reset` when that is later).
    pub rate_limit_start: Duration,
    pub rate_limit_max: Duration,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        Self {
            network_step: Duration::from_millis(250),
            network_max: Duration::from_secs(16),
            http_start: Duration::from_secs(5),
            http_max: Duration::from_secs(320),
            rate_limit_start: Duration::from_secs(60),
            rate_limit_max: Duration::from_secs(960),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct StreamSettings {
    pub stall_timeout: Duration,
    /// 1–5 asks the API to resend the minutes missed on reconnect; 0 = off.
    pub backfill_minutes: u32,
    pub backoff: BackoffPolicy,
}

/// Counters of the stream connection, for the metrics endpoint and tests.
#[derive(Debug, Default)]
pub struct StreamMetrics {
    pub connects: AtomicU64,
    pub reconnects: AtomicU64,
    pub stalls: AtomicU64,
    pub keep_alives: AtomicU64,
    pub lines: AtomicU64,
    pub truncated: AtomicU64,
    pub http_errors: AtomicU64,
    pub rate_limited: AtomicU64,
}

/// Splits received bytes into lines, whatever the read boundaries.
#[derive(Debug, Default)]
pub struct LineFramer {
    partial: Vec<u8>,
}

impl LineFramer {
    /// Feeds bytes; calls `line` for every complete line (without `\r\n`; empty = keep-alive).
    pub fn push(&mut self, mut bytes: &[u8], mut line: impl FnMut(&[u8])) {
        while let Some(end) = bytes.iter().position(|b| *b == b'\n') {
            let (head, rest) = (&bytes[..end], &bytes[end + 1..]);
            if self.partial.is_empty() {
                line(head.strip_suffix(b"\r").unwrap_or(head));
            } else {
                self.partial.extend_from_slice(head);
                let whole = std::mem::take(&mut self.partial);
                line(whole.strip_suffix(b"\r").unwrap_or(&whole));
            }
            bytes = rest;
        }
        self.partial.extend_from_slice(bytes);
    }

    /// What is left when the connection ends: a line cut short, if any.
    pub fn take_rest(&mut self) -> Option<Vec<u8>> {
        let rest = std::mem::take(&mut self.partial);
        (!rest.iter().all(u8::is_ascii_whitespace)).then_some(rest)
    }
}

/// How a connection ended.
enum Ended {
    /// Stopped by the caller.
    Stop,
    /// The stream was open and ended (drop, stall, operational disconnect): reconnect now.
    Dropped,
    /// Could not connect, or the body broke before any byte.
    Network(String),
    /// An HTTP error the API says to retry after a while.
    Retry { status: u16, wait: Duration },
}

/// Follows the stream until `stop` is set or an error that retrying cannot fix (bad token, bad
/// request). `deliver` gets every message line as received; it may block (back-pressure).
pub async fn follow(
    client: &XApiClient,
    settings: &StreamSettings,
    metrics: &StreamMetrics,
    stop: &AtomicBool,
    mut deliver: impl FnMut(Vec<u8>),
) -> Result<(), XApiError> {
    let policy = &settings.backoff;
    let (mut network_fails, mut http_fails, mut rate_fails) = (0u32, 0u32, 0u32);
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        // Every connection asks for the minutes missed, the first one too: a producer that was
        // restarted (a crash, a deploy) missed the minutes it was down just as a reconnect does.
        // What arrives twice is de-duplicated by tweet id in silver.
        let backfill = (settings.backfill_minutes > 0).then_some(settings.backfill_minutes);
        let span = info_span!("x_stream_connection", backfill);
        let ended = connection(client, settings, metrics, stop, backfill, &mut deliver)
            .instrument(span)
            .await?;
        let wait = match ended {
            Ended::Stop => return Ok(()),
            Ended::Dropped => {
                (network_fails, http_fails, rate_fails) = (0, 0, 0);
                Duration::ZERO
            }
            Ended::Network(reason) => {
                network_fails += 1;
                let wait = (policy.network_step * network_fails).min(policy.network_max);
                warn!(%reason, ?wait, "stream connection failed; retrying");
                wait
            }
            Ended::Retry { status: 429, wait } => {
                metrics.rate_limited.fetch_add(1, Ordering::Relaxed);
                let backoff = doubling(policy.rate_limit_start, rate_fails, policy.rate_limit_max);
                rate_fails += 1;
                let wait = backoff.max(wait);
                warn!(?wait, "stream rate-limited (HTTP 429); waiting");
                wait
            }
            Ended::Retry { status, .. } => {
                metrics.http_errors.fetch_add(1, Ordering::Relaxed);
                let wait = doubling(policy.http_start, http_fails, policy.http_max);
                http_fails += 1;
                warn!(status, ?wait, "stream HTTP error; retrying");
                wait
            }
        };
        metrics.reconnects.fetch_add(1, Ordering::Relaxed);
        sleep_unless_stopped(wait, stop).await;
    }
}

fn doubling(start: Duration, times: u32, max: Duration) -> Duration {
    start.saturating_mul(1u32 << times.min(20)).min(max)
}

async fn sleep_unless_stopped(wait: Duration, stop: &AtomicBool) {
    let until = Instant::now() + wait;
    while !stop.load(Ordering::Relaxed) {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        tokio::time::sleep(left.min(Duration::from_millis(100))).await;
    }
}

/// One connection: connect, then read until it ends.
async fn connection(
    client: &XApiClient,
    settings: &StreamSettings,
    metrics: &StreamMetrics,
    stop: &AtomicBool,
    backfill: Option<u32>,
    deliver: &mut impl FnMut(Vec<u8>),
) -> Result<Ended, XApiError> {
    const WHAT: &str = "connecting to the filtered stream";
    let mut url = format!("{}{STREAM_PATH}?{STREAM_QUERY}", client.base_url);
    if let Some(minutes) = backfill {
        url.push_str(&format!("&backfill_minutes={minutes}"));
    }
    let mut response = match client.get(&url).send().await {
        Ok(r) => r,
        Err(e) => return Ok(Ended::Network(e.to_string())),
    };
    let status = response.status().as_u16();
    if status != 200 {
        let reset = rate_limit_reset(response.headers());
        let body = response.bytes().await.unwrap_or_default();
        return match status {
            429 => Ok(Ended::Retry {
                status,
                wait: reset,
            }),
            // Server-side trouble and timeouts pass; the API asks to retry them with backoff.
            408 | 500..=599 => {
                warn!(status, body = %String::from_utf8_lossy(&body), "stream HTTP error");
                Ok(Ended::Retry {
                    status,
                    wait: Duration::ZERO,
                })
            }
            _ => Err(http_error(WHAT, status, &body)),
        };
    }
    metrics.connects.fetch_add(1, Ordering::Relaxed);
    info!("connected to the filtered stream");
    let mut framer = LineFramer::default();
    let mut last_byte = Instant::now();
    // Only a connection that carried messages resets the backoff: one that only says `errors`
    // and closes would otherwise be reconnected in a tight loop.
    let mut carried_data = false;
    let ended = loop {
        if stop.load(Ordering::Relaxed) {
            break Ended::Stop;
        }
        let quiet = last_byte.elapsed();
        if quiet >= settings.stall_timeout {
            metrics.stalls.fetch_add(1, Ordering::Relaxed);
            warn!(?quiet, "no data or keep-alive; reconnecting");
            break Ended::Dropped;
        }
        let poll = (settings.stall_timeout - quiet).min(Duration::from_millis(200));
        // `chunk` only takes a frame once it is ready, so timing it out loses nothing.
        match tokio::time::timeout(poll, response.chunk()).await {
            Err(_) => continue,
            Ok(Ok(Some(bytes))) => {
                last_byte = Instant::now();
                framer.push(&bytes, |line| {
                    if line.iter().all(u8::is_ascii_whitespace) {
                        metrics.keep_alives.fetch_add(1, Ordering::Relaxed);
                    } else {
                        metrics.lines.fetch_add(1, Ordering::Relaxed);
                        carried_data |= !line.starts_with(b"{\"errors\"");
                        deliver(line.to_vec());
                    }
                });
            }
            Ok(Ok(None)) if carried_data => break Ended::Dropped,
            Ok(Ok(None)) => break Ended::Network("the stream closed without a message".into()),
            Ok(Err(e)) if carried_data => {
                warn!(error = %e, "stream broke off; reconnecting");
                break Ended::Dropped;
            }
            Ok(Err(e)) => break Ended::Network(e.to_string()),
        }
    };
    // A line cut short is still what the API sent: it goes on (bronze quarantines it).
    if let Some(rest) = framer.take_rest() {
        metrics.truncated.fetch_add(1, Ordering::Relaxed);
        metrics.lines.fetch_add(1, Ordering::Relaxed);
        warn!(
            bytes = rest.len(),
            "stream ended inside a line; sending it as received"
        );
        deliver(rest);
    }
    Ok(ended)
}

/// How long until `x-rate-limit-reset` (epoch seconds), zero without one.
fn rate_limit_reset(headers: &reqwest::header::HeaderMap) -> Duration {
    let reset = headers
        .get("x-rate-limit-reset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    reset.map_or(Duration::ZERO, |r| {
        Duration::from_secs(r.saturating_sub(now))
    })
}
