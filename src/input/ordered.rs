//! Work on a list of items done on the pool's threads, its results handed on in the list's order on the
//! calling thread while the pool works on further items: a pipeline without barriers, unlike a parallel
//! map over windows of the list, where the pool idles while a window's results are handed on and the
//! window's slowest item holds up the next.

use std::collections::VecDeque;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Condvar, Mutex, MutexGuard};

/// How far the workers may run ahead of the item being handed on.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ahead {
    /// Items done or in work beyond the one being handed on…
    pub items: usize,
    /// …and their weight (bytes, say). An item heavier than this alone is still taken, when it is next.
    pub weight: u64,
}

/// What the workers and the calling thread share.
struct State<R> {
    /// The results of items `handed..`, `None` while in work.
    results: VecDeque<Option<std::thread::Result<R>>>,
    /// Items handed on so far (the index of the next one).
    handed: usize,
    /// The next item to take.
    next: usize,
    /// The weight of the items in work.
    weight: u64,
    /// Workers on the pool, taking items.
    active: usize,
    /// The calling thread stopped (done, an error, a panic): take nothing more.
    stop: bool,
}

impl<R> State<R> {
    /// Whether the next item may be taken: it is within reach of the one being handed on.
    fn may_take<T>(&self, items: &[T], weight: &impl Fn(&T) -> u64, ahead: Ahead) -> bool {
        let i = self.next;
        !self.stop
            && i < items.len()
            && i < self.handed + ahead.items
            && (i == self.handed || self.weight + weight(&items[i]) <= ahead.weight)
    }
}

/// Runs `work(i, &items[i])` for every item on the rayon pool and `hand_on(i, result)` for each result, in
/// order, on this thread. Workers take items in order and never more than `ahead` past the one being
/// handed on, so memory stays bounded however long the list. The first error of `hand_on` stops the
/// work (items in work finish; their results are dropped) and is returned. A panic in `work` is
/// raised again on this thread.
///
/// A worker with nothing within reach leaves the pool's thread free rather than waiting on it, and this
/// thread starts workers again as items come within reach. So `hand_on` may itself run work on the pool
/// (a larger file's chunks parsed in parallel, another list handed on in order): were the pool's threads
/// waiting here for room ahead, that work would never run.
pub(crate) fn for_each_ordered<T, R, E>(
    items: &[T],
    weight: impl Fn(&T) -> u64 + Sync,
    ahead: Ahead,
    work: impl Fn(usize, &T) -> R + Sync,
    mut hand_on: impl FnMut(usize, R) -> Result<(), E>,
) -> Result<(), E>
where
    T: Sync,
    R: Send,
{
    let shared = Shared {
        state: Mutex::new(State {
            results: VecDeque::new(),
            handed: 0,
            next: 0,
            weight: 0,
            active: 0,
            stop: false,
        }),
        changed: Condvar::new(),
    };
    let workers = rayon::current_num_threads().clamp(1, items.len().max(1));
    let (shared, work, weight) = (&shared, &work, &weight);
    rayon::in_place_scope(|scope| {
        // Whatever way this thread leaves (an error, a panic), the workers stop taking items, so the
        // scope can end.
        let _stop = StopOnDrop(shared);
        // Starts workers, up to `workers` in all, when the next item may be taken.
        let start = |state: &mut State<R>| {
            let idle = workers - state.active;
            if idle == 0 || !state.may_take(items, weight, ahead) {
                return 0;
            }
            state.active += idle;
            idle
        };
        let spawn = |n: usize| {
            for _ in 0..n {
                scope.spawn(move |_| {
                    while let Some((i, w)) = shared.take(items, weight, ahead) {
                        let result = panic::catch_unwind(AssertUnwindSafe(|| work(i, &items[i])));
                        let mut state = shared.lock();
                        let at = i - state.handed;
                        state.results[at] = Some(result);
                        state.weight -= w;
                        drop(state);
                        shared.changed.notify_all();
                    }
                });
            }
        };
        for i in 0..items.len() {
            let mut state = shared.lock();
            let result = loop {
                if let Some(Some(_)) = state.results.front() {
                    break state.results.pop_front().flatten();
                }
                // Nothing in work may be the item this thread waits for: a worker takes it.
                let n = start(&mut state);
                if n > 0 {
                    drop(state);
                    spawn(n);
                    state = shared.lock();
                    continue;
                }
                state = shared.wait(state);
            };
            state.handed = i + 1;
            // The items now within reach are taken while this one is handed on.
            let n = start(&mut state);
            drop(state);
            spawn(n);
            match result {
                Some(Ok(r)) => hand_on(i, r)?,
                Some(Err(payload)) => panic::resume_unwind(payload),
                None => unreachable!("waited for a result"),
            }
        }
        Ok(())
    })
}

struct Shared<R> {
    state: Mutex<State<R>>,
    changed: Condvar,
}

impl<R> Shared<R> {
    fn lock(&self) -> MutexGuard<'_, State<R>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait<'a>(&self, state: MutexGuard<'a, State<R>>) -> MutexGuard<'a, State<R>> {
        self.changed.wait(state).unwrap_or_else(|e| e.into_inner())
    }

    /// The next item and its weight, when it may be taken; else `None`, and the worker asking leaves.
    fn take<T>(
        &self,
        items: &[T],
        weight: &impl Fn(&T) -> u64,
        ahead: Ahead,
    ) -> Option<(usize, u64)> {
        let mut state = self.lock();
        if !state.may_take(items, weight, ahead) {
            state.active -= 1;
            return None;
        }
        let i = state.next;
        let w = weight(&items[i]);
        state.next = i + 1;
        state.weight += w;
        let at = i - state.handed;
        if state.results.len() <= at {
            state.results.resize_with(at + 1, || None);
        }
        Some((i, w))
    }
}

struct StopOnDrop<'a, R>(&'a Shared<R>);

impl<R> Drop for StopOnDrop<'_, R> {
    fn drop(&mut self) {
        self.0.lock().stop = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    const AHEAD: Ahead = Ahead {
        items: 3,
        weight: 100,
    };

    #[test]
    fn results_are_handed_on_in_order_however_long_each_item_takes() {
        let items: Vec<u64> = (0..200).collect();
        let mut seen = Vec::new();
        let outcome: Result<(), ()> = for_each_ordered(
            &items,
            |_| 1,
            AHEAD,
            |i, &n| {
                // Later items finish first, now and then.
                if i % 7 == 0 {
                    std::thread::sleep(std::time::Duration::from_millis(2));
                }
                n * 10
            },
            |i, r| {
                seen.push((i, r));
                Ok(())
            },
        );
        assert_eq!(outcome, Ok(()));
        let expected: Vec<(usize, u64)> = (0..200).map(|i| (i as usize, i * 10)).collect();
        assert_eq!(seen, expected);
    }

    #[test]
    fn workers_stay_within_reach_of_the_item_being_handed_on() {
        // Each item weighs 30: at most 3 (90 of 100) are taken and not handed on, and never an item more
        // than 3 past the one being handed on.
        let items: Vec<u64> = vec![30; 50];
        let taken = AtomicU64::new(0);
        let mut most_ahead = 0;
        let outcome: Result<(), ()> = for_each_ordered(
            &items,
            |&w| w,
            AHEAD,
            |i, _| {
                taken.fetch_max(i as u64 + 1, Ordering::SeqCst);
                i
            },
            |i, r| {
                assert_eq!(r, i);
                // Items taken beyond this one (this one is handed on, not yet counted as handed).
                let beyond = taken.load(Ordering::SeqCst) - (i as u64 + 1);
                most_ahead = most_ahead.max(beyond);
                std::thread::sleep(std::time::Duration::from_micros(200));
                Ok(())
            },
        );
        assert_eq!(outcome, Ok(()));
        assert!(most_ahead <= 3, "ran {most_ahead} items ahead");
    }

    #[test]
    fn an_item_heavier_than_the_limit_is_taken_when_it_is_next() {
        let items: Vec<u64> = vec![10, 500, 10, 1000, 10];
        let mut seen = Vec::new();
        let outcome: Result<(), ()> = for_each_ordered(
            &items,
            |&w| w,
            AHEAD,
            |_, &w| w,
            |_, r| {
                seen.push(r);
                Ok(())
            },
        );
        assert_eq!(outcome, Ok(()));
        assert_eq!(seen, items);
    }

    #[test]
    fn the_first_error_stops_the_work_and_is_returned() {
        let items: Vec<u64> = (0..1000).collect();
        let done = AtomicU64::new(0);
        let mut handed = 0;
        let outcome = for_each_ordered(
            &items,
            |_| 1,
            AHEAD,
            |_, &n| {
                done.fetch_add(1, Ordering::SeqCst);
                n
            },
            |i, _| {
                handed += 1;
                if i == 5 {
                    Err(format!("item {i}"))
                } else {
                    Ok(())
                }
            },
        );
        assert_eq!(outcome, Err("item 5".to_string()));
        assert_eq!(handed, 6);
        // Nothing was taken more than 3 past the failing item.
        assert!(done.load(Ordering::SeqCst) <= 6 + 3);
    }

    #[test]
    fn a_panic_in_the_work_is_raised_on_the_calling_thread() {
        let items: Vec<u64> = (0..20).collect();
        let caught = panic::catch_unwind(AssertUnwindSafe(|| {
            let _: Result<(), ()> = for_each_ordered(
                &items,
                |_| 1,
                AHEAD,
                |i, _| {
                    if i == 4 {
                        panic!("item 4");
                    }
                    i
                },
                |_, _| Ok(()),
            );
        }));
        let payload = caught.expect_err("the panic reaches the caller");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"item 4"));
    }

    #[test]
    fn hand_on_may_run_work_on_the_pool_while_items_wait_ahead() {
        // Each hand-on runs a parallel map and a list of its own handed on in order, on the same pool,
        // while the outer list's items fill every place ahead. Before items were given to the pool one
        // job each, its threads waited for room ahead, and the inner work (queued behind them) never
        // ran: this hung.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use rayon::prelude::*;
            let items: Vec<u64> = (0..40).collect();
            let mut sums = Vec::new();
            let outcome: Result<(), ()> = for_each_ordered(
                &items,
                |_| 1,
                AHEAD,
                |_, &n| n,
                |_, n| {
                    let chunks: Vec<u64> = (0..64).collect();
                    let mapped: u64 = chunks.par_iter().map(|c| c * n).sum();
                    let mut inner = 0;
                    for_each_ordered(
                        &chunks,
                        |_| 1,
                        AHEAD,
                        |_, &c| c,
                        |_, c| {
                            inner += c;
                            Ok::<(), ()>(())
                        },
                    )?;
                    sums.push(mapped + inner);
                    Ok(())
                },
            );
            let _ = tx.send((outcome, sums));
        });
        let (outcome, sums) = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("the work finishes (no thread waits on another that waits on it)");
        assert_eq!(outcome, Ok(()));
        // Item n: the parallel map gives n * (0 + 1 + ... + 63) = 2016 n, the inner list 2016.
        let expected: Vec<u64> = (0..40).map(|n| 2016 * n + 2016).collect();
        assert_eq!(sums, expected);
    }

    #[test]
    fn an_empty_list_does_nothing() {
        let outcome: Result<(), ()> = for_each_ordered(
            &[] as &[u64],
            |_| 1,
            AHEAD,
            |_, _| unreachable!(),
            |_, ()| unreachable!(),
        );
        assert_eq!(outcome, Ok(()));
    }
}
