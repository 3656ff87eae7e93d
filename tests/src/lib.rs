//! The nubes conformance suite: one behaviour suite every adapter must pass.
//!
//! An adapter plugs in by implementing [`Platform`]: deliver a queue message,
//! a storage notification, a schedule firing or an HTTP request to the
//! [`conformance_app`] *in that platform's own wire format*, and report what
//! the platform would have been told ([`Verdict`]). The checks in [`checks`]
//! then assert the same observable behaviour everywhere: what the handler saw,
//! which failures are retried, which are acknowledged, and that a panic fails
//! only its own event. [`conformance_tests!`] turns them into `#[tokio::test]`s.

mod app;
pub mod checks;
mod http_client;
mod platform;
mod recorder;

pub use app::conformance_app;
pub use http_client::send;
pub use platform::{HttpReply, Platform, Verdict};
pub use recorder::Recorder;

/// Expands to one `#[tokio::test]` per conformance check, each on a fresh
/// platform built by the async expression `$setup` (which must evaluate to a
/// `(impl Platform, Recorder)` pair).
#[macro_export]
macro_rules! conformance_tests {
    ($setup:expr) => {
        $crate::conformance_tests!(@each $setup;
            queue_message_reaches_the_handler,
            queue_error_is_retried,
            queue_permanent_error_is_acknowledged,
            queue_panic_fails_only_its_own_event,
            unknown_queue_is_not_acknowledged,
            storage_created_reaches_the_handler,
            schedule_reaches_the_handler,
            http_routes_are_served_unchanged,
        );
    };
    (@each $setup:expr; $($check:ident),+ $(,)?) => {
        $(
            #[tokio::test]
            async fn $check() {
                let (platform, recorder) = $setup.await;
                $crate::checks::$check(&platform, &recorder).await;
            }
        )+
    };
}
