//! Running an operation again when its commit lost a race with another writer of the same table.
//!
//! The timers of a deployment meet: `maintain` compacts a table while `promote silver` merges into
//! it or `promote gold` swaps a window. Delta's optimistic concurrency lets the first commit win
//! and fails the other with a conflict; the loser is correct to run again on the new snapshot.
//! Every operation retried here is idempotent (its progress is in the Delta log), so a retry
//! redoes only what did not commit. Like Kafka Connect's `errors.retry.*`, retries are bounded and
//! spaced out, and each is logged and counted.

use std::future::Future;
use std::time::Duration;

use tracing::warn;

/// How often and how patiently to retry a conflicting commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt; 0 fails at the first conflict.
    pub retries: u32,
    /// The wait before the first retry; each later one waits twice as long, up to [`MAX_BACKOFF`].
    pub first_backoff: Duration,
}

/// The longest wait between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

impl RetryPolicy {
    pub fn new(retries: u32) -> Self {
        Self {
            retries,
            first_backoff: Duration::from_millis(500),
        }
    }

    /// The wait before retry `n` (0-based): doubling from `first_backoff`, capped, with up to a
    /// quarter more so that two writers that conflicted do not meet again at once.
    pub fn backoff(&self, n: u32) -> Duration {
        let base = self
            .first_backoff
            .saturating_mul(1u32 << n.min(16))
            .min(MAX_BACKOFF);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let quarter = base.as_millis() as u64 / 4;
        base + Duration::from_millis(u64::from(nanos) % quarter.max(1))
    }
}

/// Runs `op` until it succeeds, fails with an error `is_conflict` does not accept, or has been
/// retried `policy.retries` times. Returns the value and how many retries it took.
pub async fn retry_on_conflict<T, E, F, Fut>(
    policy: RetryPolicy,
    what: &str,
    is_conflict: impl Fn(&E) -> bool,
    mut op: F,
) -> Result<(T, u32), E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: std::fmt::Display,
{
    let mut retries = 0;
    loop {
        match op().await {
            Ok(value) => return Ok((value, retries)),
            Err(e) if retries < policy.retries && is_conflict(&e) => {
                let wait = policy.backoff(retries);
                retries += 1;
                warn!(
                    retry = retries,
                    of = policy.retries,
                    wait_ms = wait.as_millis() as u64,
                    "{what}: another writer committed first ({e}); running it again"
                );
                tokio::time::sleep(wait).await;
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let policy = RetryPolicy::new(5);
        let first = policy.backoff(0);
        assert!(first >= Duration::from_millis(500) && first < Duration::from_millis(625));
        let third = policy.backoff(2);
        assert!(third >= Duration::from_secs(2) && third < Duration::from_millis(2_500));
        let late = policy.backoff(40);
        assert!(late >= MAX_BACKOFF && late < MAX_BACKOFF + MAX_BACKOFF / 4);
    }

    #[tokio::test]
    async fn retries_conflicts_only_and_counts_them() {
        let policy = RetryPolicy {
            retries: 3,
            first_backoff: Duration::from_millis(1),
        };
        let mut calls = 0;
        let got: Result<(u32, u32), String> = retry_on_conflict(
            policy,
            "test",
            |e: &String| e == "conflict",
            || {
                calls += 1;
                let n = calls;
                async move {
                    match n {
                        1 | 2 => Err("conflict".to_string()),
                        _ => Ok(n),
                    }
                }
            },
        )
        .await;
        assert_eq!(got, Ok((3, 2)));

        let mut calls = 0;
        let other: Result<((), u32), String> = retry_on_conflict(
            policy,
            "test",
            |e: &String| e == "conflict",
            || {
                calls += 1;
                async { Err("disk full".to_string()) }
            },
        )
        .await;
        assert_eq!(other, Err("disk full".to_string()));
        assert_eq!(calls, 1, "only conflicts are retried");

        let mut calls = 0;
        let exhausted: Result<((), u32), String> = retry_on_conflict(
            policy,
            "test",
            |e: &String| e == "conflict",
            || {
                calls += 1;
                async { Err("conflict".to_string()) }
            },
        )
        .await;
        assert!(exhausted.is_err());
        assert_eq!(calls, 4, "the first attempt and three retries");
    }
}
