//! Event handlers: plain `async fn(Event, Context)`, erased once inside `App`.

use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;

use crate::{BoxError, Context};

/// Handles one neutral event of type `E`.
///
/// Implemented for every `async fn(E, Context) -> Result<(), Err>` (and closures
/// of that shape) where `Err: Into<BoxError>`; implement it by hand for handlers
/// that carry state.
///
/// ```
/// use nubes_core::{Context, EventHandler, QueueMessage, BoxError};
///
/// async fn process(msg: QueueMessage, _ctx: Context) -> Result<(), BoxError> {
///     let _text = msg.text()?;
///     Ok(())
/// }
///
/// fn assert_handler<H: EventHandler<QueueMessage>>(_: H) {}
/// assert_handler(process);
/// ```
pub trait EventHandler<E>: Send + Sync + 'static {
    /// Handles `event`. An `Err` means "retry" unless it is
    /// [`permanent`](crate::permanent).
    fn handle(&self, event: E, ctx: Context) -> impl Future<Output = Result<(), BoxError>> + Send;

    /// True when the handler keeps state in this instance's memory only, by
    /// default rather than by the user's choice: an
    /// [`idempotent`](crate::idempotency::idempotent) handler without a store.
    /// Adapters of platforms with many instances refuse such handlers at
    /// startup ([`AppDispatch::validate_on`](crate::raw::AppDispatch::validate_on)).
    #[doc(hidden)]
    fn implicit_memory_store(&self) -> bool {
        false
    }
}

impl<E, F, Fut, Err> EventHandler<E> for F
where
    F: Fn(E, Context) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), Err>> + Send + 'static,
    Err: Into<BoxError>,
    E: Send + 'static,
{
    fn handle(&self, event: E, ctx: Context) -> impl Future<Output = Result<(), BoxError>> + Send {
        let fut = self(event, ctx);
        async move { fut.await.map_err(Into::into) }
    }
}

/// The object-safe twin of [`EventHandler`], what `App` stores.
trait DynHandler<E>: Send + Sync {
    fn call(&self, event: E, ctx: Context) -> BoxFuture<'static, Result<(), BoxError>>;
}

struct Erased<H>(Arc<H>);

impl<E, H> DynHandler<E> for Erased<H>
where
    H: EventHandler<E>,
    E: Send + 'static,
{
    fn call(&self, event: E, ctx: Context) -> BoxFuture<'static, Result<(), BoxError>> {
        let handler = Arc::clone(&self.0);
        Box::pin(async move { handler.handle(event, ctx).await })
    }
}

/// A type-erased [`EventHandler`], cheap to clone.
pub struct BoxedHandler<E> {
    inner: Arc<dyn DynHandler<E>>,
    implicit_memory_store: bool,
}

impl<E: Send + 'static> BoxedHandler<E> {
    /// Erases `handler`.
    pub fn new<H: EventHandler<E>>(handler: H) -> Self {
        BoxedHandler {
            implicit_memory_store: handler.implicit_memory_store(),
            inner: Arc::new(Erased(Arc::new(handler))),
        }
    }

    /// See [`EventHandler::implicit_memory_store`].
    pub fn implicit_memory_store(&self) -> bool {
        self.implicit_memory_store
    }

    /// Runs the handler.
    pub fn call(&self, event: E, ctx: Context) -> BoxFuture<'static, Result<(), BoxError>> {
        self.inner.call(event, ctx)
    }
}

impl<E> Clone for BoxedHandler<E> {
    fn clone(&self) -> Self {
        BoxedHandler {
            inner: Arc::clone(&self.inner),
            implicit_memory_store: self.implicit_memory_store,
        }
    }
}

impl<E> std::fmt::Debug for BoxedHandler<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoxedHandler").finish_non_exhaustive()
    }
}
