//! The HTTP body type every adapter hands to the app's service.

use std::any::Any;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::raw::RefusedBody;
use crate::{BoxError, Error};

/// A streaming HTTP body: what a request carries into the app's service and
/// what its response carries back. Any `http_body::Body` with `Bytes` frames
/// converts into it, so axum's `Router` accepts it directly.
///
/// Underneath it is an [`axum::body::Body`]: converting between the two
/// either way ([`Body::new`], `From`) moves a pointer instead of boxing the
/// body once more, so an axum app behind nubes streams through the same
/// single box as under `axum::serve`.
///
/// ```
/// use nubes_core::Body;
///
/// # tokio_test_block(async {
/// let body = Body::from("hello");
/// assert_eq!(body.collect_bytes(1024).await.unwrap(), "hello");
/// # });
/// # fn tokio_test_block<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
pub struct Body(axum::body::Body);

impl Body {
    /// Wraps any body. A `Body` passed in is returned as is, not boxed again.
    pub fn new<B>(body: B) -> Self
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let mut slot = Some(body);
        if let Some(same) = (&mut slot as &mut dyn Any).downcast_mut::<Option<Body>>()
            && let Some(body) = same.take()
        {
            return body;
        }
        match slot {
            // axum's own `Body::new` unwraps an `axum::body::Body` the same way.
            Some(body) => Body(axum::body::Body::new(body)),
            None => Body::empty(),
        }
    }

    /// An empty body.
    pub fn empty() -> Self {
        Body(axum::body::Body::empty())
    }

    /// Reads the whole body, failing with [`ErrorKind::InvalidEvent`](crate::ErrorKind)
    /// once it exceeds `limit` bytes (without buffering beyond the limit), or
    /// when it cannot be read: a malformed or cut-short body is the sender's
    /// error, not the platform's.
    pub async fn collect_bytes(self, limit: usize) -> Result<Bytes, Error> {
        read(self, limit).await.map_err(RefusedBody::into_error)
    }
}

/// The whole body, or why it was refused (see [`crate::raw::read_request_body`]).
pub(crate) async fn read(body: Body, limit: usize) -> Result<Bytes, RefusedBody> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.is::<LengthLimitError>() => Err(RefusedBody::too_large(limit, err)),
        Err(err) => Err(RefusedBody::malformed(err)),
    }
}

impl Default for Body {
    fn default() -> Self {
        Body::empty()
    }
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Body").finish_non_exhaustive()
    }
}

impl From<Bytes> for Body {
    fn from(bytes: Bytes) -> Self {
        if bytes.is_empty() {
            return Body::empty();
        }
        Body(axum::body::Body::from(bytes))
    }
}

impl From<axum::body::Body> for Body {
    fn from(body: axum::body::Body) -> Self {
        Body(body)
    }
}

impl From<Body> for axum::body::Body {
    fn from(body: Body) -> Self {
        body.0
    }
}

impl From<Vec<u8>> for Body {
    fn from(v: Vec<u8>) -> Self {
        Body::from(Bytes::from(v))
    }
}

impl From<String> for Body {
    fn from(s: String) -> Self {
        Body::from(Bytes::from(s))
    }
}

impl From<&'static str> for Body {
    fn from(s: &'static str) -> Self {
        Body::from(Bytes::from_static(s.as_bytes()))
    }
}

impl From<&'static [u8]> for Body {
    fn from(s: &'static [u8]) -> Self {
        Body::from(Bytes::from_static(s))
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.0)
            .poll_frame(cx)
            .map_err(axum::Error::into_inner)
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.0.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body::Body as _;

    #[tokio::test]
    async fn limit_is_enforced() {
        let err = Body::from("0123456789").collect_bytes(4).await.unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidEvent);
        assert!(err.to_string().contains("limit of 4 bytes"));
    }

    #[tokio::test]
    async fn a_broken_stream_is_the_senders_error() {
        let broken = futures_util::stream::iter([
            Ok(Bytes::from_static(b"1")),
            Err(std::io::Error::other("invalid chunk size line")),
        ]);
        let body = Body::new(axum::body::Body::from_stream(broken));
        let refused = crate::raw::read_request_body(body, 64).await.unwrap_err();
        assert_eq!(refused.status(), http::StatusCode::BAD_REQUEST);
        assert_eq!(refused.error().kind(), crate::ErrorKind::InvalidEvent);
        assert!(
            refused
                .error()
                .message()
                .contains("invalid chunk size line"),
            "{}",
            refused.error()
        );
    }

    #[test]
    fn wrapping_a_body_does_not_rebox() {
        let body = Body::new(Body::from("abc"));
        assert_eq!(body.size_hint().exact(), Some(3));
    }

    #[test]
    fn axum_bodies_convert_both_ways_without_reboxing() {
        let body = Body::new(axum::body::Body::from("abcd"));
        assert_eq!(body.size_hint().exact(), Some(4));
        let axum_body = axum::body::Body::from(body);
        assert_eq!(axum_body.size_hint().exact(), Some(4));
    }

    #[test]
    fn empty_body_is_end_of_stream() {
        assert!(Body::empty().is_end_stream());
        assert!(Body::from(Bytes::new()).is_end_stream());
    }
}
