//! Per-row work spread over every core: with NER off, parsing and sentiment are most of a silver
//! run's CPU, and rows are independent. The promotion itself stays one task; this only splits a
//! loop over rayon's pool and puts the results back in order. The pool's threads live as long as
//! the process, so what a thread remembers (tweetlake-twitter's per-thread cache of each word's
//! entities) carries over from one bronze file, and one `run` round, to the next.

use rayon::prelude::*;

/// Below this many items one thread does the work: splitting would cost more.
const MIN_ITEMS: usize = 256;
/// The fewest items one thread of the pool takes at a time.
const MIN_PER_TASK: usize = 64;

/// `f` over `items`, in order, on rayon's pool (one thread per core).
pub(crate) fn map_in_order<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> R + Sync + Send,
) -> Vec<R> {
    if items.len() < MIN_ITEMS {
        return items.iter().map(f).collect();
    }
    items.par_iter().with_min_len(MIN_PER_TASK).map(f).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_order_however_many_items() {
        for n in [0, 1, MIN_ITEMS - 1, MIN_ITEMS, 1001, 20_000] {
            let items: Vec<u64> = (0..n as u64).collect();
            let squares = map_in_order(&items, |x| x * x);
            assert_eq!(squares, items.iter().map(|x| x * x).collect::<Vec<_>>());
        }
    }
}
