//! Waiting for a state a test cannot be notified of (a count another task
//! updates, a file another process writes): polled often, with a generous
//! bound, instead of a fixed sleep that guesses how long it takes.

use std::time::{Duration, Instant};

/// How often [`until`] and [`until_blocking`] look again.
const POLL: Duration = Duration::from_millis(10);

/// Returns as soon as `done()` holds.
///
/// # Panics
///
/// When it still does not hold after `bound`, naming `what` was awaited.
pub async fn until(what: &str, bound: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < bound, "not within {bound:?}: {what}");
        tokio::time::sleep(POLL).await;
    }
}

/// [`until`] with an asynchronous check (an HTTP request, a read from an
/// emulator).
///
/// # Panics
///
/// When the check still fails after `bound`, naming `what` was awaited.
pub async fn until_async<F, Fut>(what: &str, bound: Duration, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !done().await {
        assert!(started.elapsed() < bound, "not within {bound:?}: {what}");
        tokio::time::sleep(POLL).await;
    }
}

/// [`until`] for a synchronous test (it blocks the calling thread).
///
/// # Panics
///
/// When `done()` still does not hold after `bound`, naming `what`.
pub fn until_blocking(what: &str, bound: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < bound, "not within {bound:?}: {what}");
        std::thread::sleep(POLL);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    #[tokio::test]
    async fn returns_once_another_task_makes_it_true() {
        let flag = Arc::new(AtomicBool::new(false));
        tokio::spawn({
            let flag = flag.clone();
            async move { flag.store(true, Ordering::SeqCst) }
        });
        until("the flag", Duration::from_secs(10), || {
            flag.load(Ordering::SeqCst)
        })
        .await;
    }

    #[test]
    fn fails_naming_what_never_happened() {
        let outcome = std::panic::catch_unwind(|| {
            until_blocking("the impossible", Duration::from_millis(30), || false);
        });
        let message = outcome
            .err()
            .and_then(|p| p.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        assert!(message.contains("the impossible"), "{message:?}");
    }
}
