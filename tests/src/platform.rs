//! What an adapter harness must be able to do.

use std::future::Future;

/// What the platform was told about one delivered event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Handled (or failed permanently): the platform deletes / acks the event.
    Acknowledged,
    /// Not handled: the platform will redeliver (and eventually dead-letter) it.
    Retry,
}

/// An HTTP response as the client would see it.
#[derive(Debug, Clone)]
pub struct HttpReply {
    /// Status code.
    pub status: u16,
    /// Header names (lower-case) and values.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

/// A platform under test, running [`conformance_app`](crate::conformance_app).
///
/// Each method delivers one event the way the real platform would (its wire
/// format, its endpoint) and reports the platform-visible outcome.
pub trait Platform: Send + Sync {
    /// Name for messages.
    fn name(&self) -> &'static str;

    /// Delivers one message of queue `trigger` with `body` and `attributes`.
    fn deliver_queue(
        &self,
        trigger: &str,
        body: &[u8],
        attributes: &[(&str, &str)],
    ) -> impl Future<Output = Verdict> + Send;

    /// Delivers an "object created" notification for `bucket`/`key` whose
    /// content is `content`.
    fn deliver_storage_created(
        &self,
        bucket: &str,
        key: &str,
        content: &[u8],
    ) -> impl Future<Output = Verdict> + Send;

    /// Delivers one firing of schedule `name`.
    fn deliver_schedule(&self, name: &str) -> impl Future<Output = Verdict> + Send;

    /// Sends an HTTP request to the app's routes.
    fn http(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> impl Future<Output = HttpReply> + Send;
}
