//! The background indexer: keeps the derived index caught up on a thread of its own.

use super::*;

/// The background indexer: catches the derived index up after every write, on its own
/// thread, until dropped.
pub struct IndexerHandle {
    stop: Arc<AtomicBool>,
    last_error: Arc<Mutex<Option<String>>>,
    wake: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for IndexerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexerHandle").finish_non_exhaustive()
    }
}

impl IndexerHandle {
    pub(in crate::store) fn spawn(store: Arc<crate::store::Store>) -> IndexerHandle {
        let stop = Arc::new(AtomicBool::new(false));
        let last_error = Arc::new(Mutex::new(None));
        let wake = store.derived.wake_signal();
        let thread = {
            let (stop, wake, errors) = (
                Arc::clone(&stop),
                Arc::clone(&wake),
                Arc::clone(&last_error),
            );
            std::thread::Builder::new()
                .name("lifeline-indexer".into())
                .spawn(move || {
                    while !stop.load(Ordering::SeqCst) {
                        let outcome = store.catch_up_index();
                        let failed = outcome.is_err();
                        if let Ok(mut slot) = errors.lock() {
                            *slot = outcome.err().map(|e| e.to_string());
                        }
                        if failed {
                            // A busy or broken file: try again later, not in a tight loop.
                            std::thread::sleep(Duration::from_secs(1));
                        }
                        let (flag, cvar) = &*wake;
                        let Ok(mut pending) = flag.lock() else { return };
                        // Also wake now and then: another process (the command line) may
                        // have written the store.
                        while !*pending && !stop.load(Ordering::SeqCst) {
                            match cvar.wait_timeout(pending, Duration::from_secs(5)) {
                                Ok((guard, timeout)) => {
                                    pending = guard;
                                    if timeout.timed_out() {
                                        break;
                                    }
                                }
                                Err(_) => return,
                            }
                        }
                        *pending = false;
                    }
                })
                .ok()
        };
        IndexerHandle {
            stop,
            last_error,
            wake,
            thread,
        }
    }

    /// Why the last catch-up failed, if it did (the next one may succeed).
    pub fn last_error(&self) -> Option<String> {
        self.last_error.lock().ok().and_then(|e| e.clone())
    }
}

impl Drop for IndexerHandle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let (flag, cvar) = &*self.wake;
        if let Ok(mut pending) = flag.lock() {
            *pending = true;
        }
        cvar.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
