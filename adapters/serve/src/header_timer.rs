//! hyper's header-read timer for one HTTP/1.1 connection, with one Tokio
//! timer per connection instead of one per request.
//!
//! hyper asks its timer for a new sleep every time it starts reading a request
//! head (keep-alive included) and drops it once the head is in. With
//! `hyper_util`'s `TokioTimer` each of those is a boxed Tokio `Sleep` put into
//! and taken out of the runtime's timer wheel. Measured with callgrind on
//! `GET /hello` (docs/benchmarks.md): the header-read timeout costs 1.9k
//! instructions per request with `TokioTimer` (plain axum serves the whole
//! request in 16.3k) and 1.5k with this timer; the rest is hyper's own work
//! around a timed head read and the runtime's timer driver having timers to
//! look at when it parks.
//!
//! Here every sleep of a connection shares one Tokio `Sleep`, the *alarm*. A
//! sleep checks its own deadline against the clock whenever it is polled and
//! only re-arms the alarm when the alarm has gone off (or is set later than
//! the sleep's deadline). Deadlines of one connection only move forward, so
//! the alarm is touched about once per timeout period rather than twice per
//! request; the price is one spurious wake-up of the connection per period,
//! which finds its deadline not reached yet and sleeps on.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper::rt::{Sleep, Timer};

/// The timer of one connection (see the module docs).
#[derive(Clone)]
pub(crate) struct ConnectionTimer {
    alarm: Arc<Mutex<Pin<Box<tokio::time::Sleep>>>>,
}

impl ConnectionTimer {
    /// A timer whose alarm is not armed yet (it is registered with the
    /// runtime on the first poll of a sleep).
    pub(crate) fn new() -> Self {
        let unarmed = tokio::time::Instant::now() + Duration::from_secs(86_400 * 365);
        ConnectionTimer {
            alarm: Arc::new(Mutex::new(Box::pin(tokio::time::sleep_until(unarmed)))),
        }
    }
}

impl Timer for ConnectionTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Sleep>> {
        self.sleep_until(self.now() + duration)
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn Sleep>> {
        Box::pin(SharedSleep {
            deadline: deadline.into(),
            alarm: self.alarm.clone(),
        })
    }

    fn now(&self) -> Instant {
        // Tokio's clock, as `TokioTimer` reads it (tests may pause it).
        tokio::time::Instant::now().into_std()
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<SharedSleep>() {
            Some(shared) => shared.get_mut().deadline = new_deadline.into(),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

/// One sleep of a connection, sharing the connection's alarm.
struct SharedSleep {
    deadline: tokio::time::Instant,
    alarm: Arc<Mutex<Pin<Box<tokio::time::Sleep>>>>,
}

impl Future for SharedSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let deadline = self.deadline;
        if tokio::time::Instant::now() >= deadline {
            return Poll::Ready(());
        }
        // One connection's sleeps are polled by that connection's task only:
        // the lock is never contended.
        let mut alarm = self.alarm.lock().unwrap_or_else(PoisonError::into_inner);
        if alarm.deadline() > deadline {
            alarm.as_mut().reset(deadline);
        }
        loop {
            match alarm.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                // An earlier sleep's deadline went by: aim at this one's (in
                // the future, checked above) and wait again.
                Poll::Ready(()) => alarm.as_mut().reset(deadline),
            }
        }
    }
}

impl Sleep for SharedSleep {}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn took(timer: &ConnectionTimer, since: Instant) -> Duration {
        timer.now() - since
    }

    #[tokio::test]
    async fn each_sleep_ends_at_its_own_deadline() {
        let timer = ConnectionTimer::new();
        let start = timer.now();
        timer.sleep(MS * 40).await;
        assert!(took(&timer, start) >= MS * 40);

        // A later sleep on the same alarm (which went off) waits its whole time.
        let second = timer.now();
        timer.sleep(MS * 40).await;
        assert!(took(&timer, second) >= MS * 40);

        // An unfinished sleep leaves the alarm set at its deadline; a sleep
        // that ends sooner pulls it earlier.
        let long = timer.sleep(Duration::from_secs(60));
        let mut long = std::pin::pin!(long);
        assert!(futures_util::poll!(long.as_mut()).is_pending());
        let short = timer.now();
        tokio::time::timeout(Duration::from_secs(5), timer.sleep(MS * 20))
            .await
            .expect("the shorter sleep ends at its own deadline");
        assert!(took(&timer, short) >= MS * 20);
        assert!(futures_util::poll!(long.as_mut()).is_pending());
    }

    #[tokio::test]
    async fn a_reset_sleep_moves_its_deadline() {
        let timer = ConnectionTimer::new();
        let start = timer.now();
        let mut sleep = timer.sleep(Duration::from_secs(60));
        timer.reset(&mut sleep, start + MS * 30);
        tokio::time::timeout(Duration::from_secs(5), sleep)
            .await
            .expect("the reset sleep ends at its new deadline");
        assert!(took(&timer, start) >= MS * 30);
    }
}
