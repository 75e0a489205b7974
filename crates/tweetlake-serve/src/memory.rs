//! Memory for queries: each connection runs one statement at a time inside its own pool of
//! `serve.query_memory_mb`, and all connections together draw from `serve.memory_mb`. A query that
//! would pass either limit fails with "resources exhausted" while the others keep running; nothing
//! spills to the server's disk (serve's session has no disk manager).

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tweetlake_core::deltalake::datafusion::error::{DataFusionError, Result};
use tweetlake_core::deltalake::datafusion::execution::memory_pool::{
    MemoryLimit, MemoryPool, MemoryReservation,
};

const MIB: usize = 1024 * 1024;

/// What every connection together may hold.
#[derive(Debug)]
pub struct SharedBudget {
    limit: usize,
    used: AtomicUsize,
}

impl SharedBudget {
    pub fn new(limit_mb: u64) -> Arc<SharedBudget> {
        Arc::new(SharedBudget {
            limit: mb(limit_mb),
            used: AtomicUsize::new(0),
        })
    }

    #[cfg(test)]
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }
}

/// One connection's pool: its own limit, inside the shared budget.
#[derive(Debug)]
pub struct ConnectionPool {
    limit: usize,
    used: AtomicUsize,
    shared: Arc<SharedBudget>,
}

impl ConnectionPool {
    pub fn new(limit_mb: u64, shared: Arc<SharedBudget>) -> ConnectionPool {
        ConnectionPool {
            limit: mb(limit_mb),
            used: AtomicUsize::new(0),
            shared,
        }
    }
}

fn mb(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX).saturating_mul(MIB)
}

/// Adds `additional` to `used` if the sum stays within `limit`.
fn take(used: &AtomicUsize, limit: usize, additional: usize) -> bool {
    used.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |now| {
        now.checked_add(additional).filter(|new| *new <= limit)
    })
    .is_ok()
}

fn give_back(used: &AtomicUsize, amount: usize) {
    // Saturating: a shrink never takes the count below zero.
    let _ = used.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |now| {
        Some(now.saturating_sub(amount))
    });
}

impl MemoryPool for ConnectionPool {
    fn name(&self) -> &str {
        "tweetlake-serve"
    }

    fn grow(&self, _reservation: &MemoryReservation, additional: usize) {
        self.used.fetch_add(additional, Ordering::Relaxed);
        self.shared.used.fetch_add(additional, Ordering::Relaxed);
    }

    fn shrink(&self, _reservation: &MemoryReservation, shrink: usize) {
        give_back(&self.used, shrink);
        give_back(&self.shared.used, shrink);
    }

    fn try_grow(&self, reservation: &MemoryReservation, additional: usize) -> Result<()> {
        let wanted = format!(
            "{} wanted {} MiB more",
            reservation.consumer().name(),
            additional.div_ceil(MIB)
        );
        if !take(&self.used, self.limit, additional) {
            return Err(DataFusionError::ResourcesExhausted(format!(
                "this query needs more than serve.query_memory_mb ({} MiB): {wanted}",
                self.limit / MIB
            )));
        }
        if !take(&self.shared.used, self.shared.limit, additional) {
            give_back(&self.used, additional);
            return Err(DataFusionError::ResourcesExhausted(format!(
                "all queries together would pass serve.memory_mb ({} MiB): {wanted}",
                self.shared.limit / MIB
            )));
        }
        Ok(())
    }

    fn reserved(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    fn memory_limit(&self) -> MemoryLimit {
        MemoryLimit::Finite(self.limit)
    }
}

impl fmt::Display for ConnectionPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "tweetlake-serve(used {} of {} MiB)",
            self.reserved() / MIB,
            self.limit / MIB
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tweetlake_core::deltalake::datafusion::execution::memory_pool::MemoryConsumer;

    #[test]
    fn a_query_fails_at_its_own_limit_and_the_budget_at_its_own() {
        let shared = SharedBudget::new(3);
        let big: Arc<dyn MemoryPool> = Arc::new(ConnectionPool::new(2, shared.clone()));
        let small: Arc<dyn MemoryPool> = Arc::new(ConnectionPool::new(2, shared.clone()));
        let a = MemoryConsumer::new("sort").register(&big);
        a.try_grow(2 * MIB).unwrap();
        let err = a.try_grow(1).unwrap_err().to_string();
        assert!(err.contains("serve.query_memory_mb (2 MiB)"), "{err}");
        let b = MemoryConsumer::new("agg").register(&small);
        b.try_grow(MIB).unwrap();
        let err = b.try_grow(MIB).unwrap_err().to_string();
        assert!(err.contains("serve.memory_mb (3 MiB)"), "{err}");
        assert_eq!(small.reserved(), MIB, "a refused grow takes nothing");
        drop(a);
        assert_eq!(shared.used(), MIB, "a finished query gives its memory back");
        b.try_grow(MIB).unwrap();
    }
}
