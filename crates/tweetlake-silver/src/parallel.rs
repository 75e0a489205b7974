//! Per-row work spread over every core: with NER off, parsing and sentiment are most of a silver
//! run's CPU, and rows are independent. The promotion itself stays one task; this only splits a
//! loop across scoped threads and puts the results back in order.

/// Below this many items one thread does the work: starting threads would cost more.
const MIN_ITEMS: usize = 256;

/// `f` over `items`, in order, on up to `available_parallelism` threads.
pub(crate) fn map_in_order<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || items.len() < MIN_ITEMS {
        return items.iter().map(&f).collect();
    }
    let f = &f;
    let part = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let parts: Vec<_> = items
            .chunks(part)
            .map(|p| scope.spawn(move || p.iter().map(f).collect::<Vec<R>>()))
            .collect();
        parts
            .into_iter()
            // A panic in a worker is the same panic as in this thread.
            .flat_map(|p| p.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_order_however_many_items() {
        for n in [0, 1, MIN_ITEMS - 1, MIN_ITEMS, 1001] {
            let items: Vec<u64> = (0..n as u64).collect();
            let squares = map_in_order(&items, |x| x * x);
            assert_eq!(squares, items.iter().map(|x| x * x).collect::<Vec<_>>());
        }
    }
}
