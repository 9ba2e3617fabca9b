//! Independent work spread over the machine's cores: an ordered map on scoped threads. Used
//! where a large plan makes one step long and its items share nothing (the resources a plan
//! destroys, the rules); small inputs run on the calling thread, as if there were one core.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// More threads than this gain little on the steps that use them (memory bandwidth).
const MAX_THREADS: usize = 8;

/// The threads worth using for `work` units when a thread is worth `per_thread` of them: 1
/// for small inputs, at most the cores the process may run on.
pub fn threads_for(work: usize, per_thread: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    (work / per_thread.max(1)).clamp(1, cores.min(MAX_THREADS))
}

/// The results of one block of items, by its number.
type Block<R, E> = (usize, Result<Vec<R>, E>);

/// `f` of every item, in the items' order, on up to `threads` threads. The items are taken in
/// blocks from a shared counter, so items of uneven cost still keep every thread busy. A
/// thread that cannot be started leaves its share to the others (the calling thread always
/// works). The error is the one of the first failing item, as a loop would return it.
pub fn try_map<T, R, E, F>(items: &[T], threads: usize, f: F) -> Result<Vec<R>, E>
where
    T: Sync,
    R: Send,
    E: Send,
    F: Fn(&T) -> Result<R, E> + Sync,
{
    if threads <= 1 || items.len() < 2 {
        return items.iter().map(&f).collect();
    }
    // About eight blocks a thread: the last ones to finish are short.
    let block = items.len().div_ceil(threads * 8).max(1);
    let blocks = items.len().div_ceil(block);
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<Block<R, E>>> = Mutex::new(Vec::with_capacity(blocks));
    let work = || loop {
        let b = next.fetch_add(1, Ordering::Relaxed);
        if b >= blocks {
            break;
        }
        let part = &items[b * block..((b + 1) * block).min(items.len())];
        let result = part.iter().map(&f).collect::<Result<Vec<R>, E>>();
        done.lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((b, result));
    };
    std::thread::scope(|scope| {
        for _ in 1..threads {
            // A thread that could not start is one fewer worker, never lost work.
            let _ = std::thread::Builder::new()
                .name("plangate-work".into())
                .spawn_scoped(scope, work);
        }
        work();
    });
    let mut done = done.into_inner().unwrap_or_else(|p| p.into_inner());
    done.sort_unstable_by_key(|(b, _)| *b);
    let mut out = Vec::with_capacity(items.len());
    for (_, result) in done {
        out.extend(result?);
    }
    Ok(out)
}

/// [`try_map`] for work that cannot fail.
pub fn map<T, R, F>(items: &[T], threads: usize, f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    match try_map(items, threads, |item| {
        Ok::<R, std::convert::Infallible>(f(item))
    }) {
        Ok(out) => out,
        Err(never) => match never {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_order_of_the_items_on_any_number_of_threads() {
        let items: Vec<u64> = (0..10_007).collect();
        let serial: Vec<u64> = items.iter().map(|i| i * i).collect();
        for threads in [1, 2, 3, 8] {
            assert_eq!(map(&items, threads, |i| i * i), serial, "{threads} threads");
        }
        assert!(map(&[] as &[u64], 4, |i| *i).is_empty());
        assert_eq!(map(&[7u64], 4, |i| i + 1), vec![8]);
    }

    #[test]
    fn the_error_is_the_first_failing_items_as_in_a_loop() {
        let items: Vec<u32> = (0..5_000).collect();
        let fail_from = |i: &u32| if *i % 1_000 == 999 { Err(*i) } else { Ok(*i) };
        for threads in [1, 2, 4] {
            assert_eq!(try_map(&items, threads, fail_from), Err(999));
        }
        let all: Result<Vec<u32>, u32> = try_map(&items, 2, |i| Ok(*i));
        assert_eq!(all.unwrap().len(), 5_000);
    }

    #[test]
    fn small_work_stays_on_one_thread() {
        assert_eq!(threads_for(10, 1_000), 1);
        assert_eq!(threads_for(0, 0), 1);
        // Plenty of work: every core the process may use, up to the cap.
        let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
        assert_eq!(threads_for(1_000_000, 1), cores.min(MAX_THREADS));
        // A thread for each full `per_thread` of work.
        assert_eq!(threads_for(3_999, 2_000), 1);
        assert_eq!(threads_for(4_000, 2_000), cores.min(2));
    }
}
