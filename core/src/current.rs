//! The context of the invocation the calling code runs in.
//!
//! nubes runs every handler (events and HTTP) inside [`scope`], so code that
//! has no `Context` at hand — a log formatter, a helper deep in the call
//! stack — can still find the invocation's ids and trace. A task-local, not
//! a process-wide value: concurrent invocations each see their own.

use std::future::Future;

use crate::Context;

tokio::task_local! {
    static CURRENT: Context;
}

/// Runs `fut` with `ctx` as the current context.
pub fn scope<F: Future>(ctx: Context, fut: F) -> impl Future<Output = F::Output> {
    // Not an `async fn`: the task-local future itself, with no extra state
    // machine around it to move on every request.
    CURRENT.scope(ctx, fut)
}

/// The context of the invocation running on this task, if any.
///
/// Work spawned onto other tasks does not inherit it: pass the `Context`
/// along (it is cheap to clone) and use [`scope`] there.
///
/// ```
/// # async fn demo() {
/// use nubes_core::raw::ContextBuilder;
/// use nubes_core::{Platform, TriggerKind, current_context};
///
/// let ctx = ContextBuilder::new(Platform::Local, TriggerKind::Queue, "orders")
///     .invocation_id("m-1")
///     .build();
/// assert!(current_context().is_none());
/// nubes_core::with_context(ctx, async {
///     assert_eq!(current_context().unwrap().invocation_id(), "m-1");
/// })
/// .await;
/// # }
/// ```
pub fn current_context() -> Option<Context> {
    CURRENT.try_with(Context::clone).ok()
}

/// Records one finished HTTP request in the current context's metrics (no
/// clone, no allocation: a thread-local read and the sink's atomics).
pub(crate) fn record_http(failed: bool, elapsed: std::time::Duration) {
    let _ = CURRENT.try_with(|ctx| {
        ctx.metrics()
            .record_invocation(crate::TriggerKind::Http, "http", failed, elapsed);
    });
}

/// The resources of the invocation running on this task, if any.
pub(crate) fn resources() -> Option<std::sync::Arc<crate::raw::Resources>> {
    CURRENT
        .try_with(|ctx| ctx.resources().cloned())
        .ok()
        .flatten()
}
