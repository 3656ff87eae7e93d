//! The request body as handlers see it: cut off past the size limit or after
//! too long a silence, each time tripping the request's flag so the response
//! says why.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use tokio::time::{Instant, Sleep};

use crate::tripwire::{Armed, Trip};

pin_project_lite::pin_project! {
    /// `Incoming` with a size limit and a read timeout.
    pub(crate) struct GuardedBody {
        #[pin]
        inner: Incoming,
        // Bytes still allowed.
        left: u64,
        timeout: Duration,
        // Set only while the body waits for the client.
        #[pin]
        silence: Option<Sleep>,
        // A frame arrived since the silence timer was last set.
        progressed: bool,
        armed: Option<Armed>,
    }
}

impl GuardedBody {
    /// `armed` is `None` when the body cannot fail (it is empty).
    pub(crate) fn new(
        inner: Incoming,
        limit: u64,
        timeout: Duration,
        armed: Option<Armed>,
    ) -> Self {
        GuardedBody {
            inner,
            left: limit,
            timeout,
            silence: None,
            progressed: false,
            armed,
        }
    }
}

/// The error a cut-off body ends with.
#[derive(Debug)]
pub(crate) struct BodyCutOff(pub(crate) Trip);

impl fmt::Display for BodyCutOff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Trip::TooLarge => f.write_str("the request body exceeds the size limit"),
            Trip::Stalled => f.write_str("the request body stopped arriving"),
        }
    }
}

impl std::error::Error for BodyCutOff {}

impl Body for GuardedBody {
    type Data = Bytes;
    type Error = nubes_core::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let mut this = self.project();
        match this.inner.as_mut().poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                *this.progressed = true;
                if let Some(data) = frame.data_ref() {
                    let len = data.len() as u64;
                    if len > *this.left {
                        return Poll::Ready(Some(Err(cut_off(this.armed, Trip::TooLarge))));
                    }
                    *this.left -= len;
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(err))) => Poll::Ready(Some(Err(err.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => {
                if this.timeout.is_zero() {
                    return Poll::Pending;
                }
                let deadline = Instant::now() + *this.timeout;
                match this.silence.as_mut().as_pin_mut() {
                    None => this.silence.set(Some(tokio::time::sleep_until(deadline))),
                    Some(sleep) if *this.progressed => sleep.reset(deadline),
                    Some(_) => {}
                }
                *this.progressed = false;
                if let Some(sleep) = this.silence.as_pin_mut() {
                    ready!(sleep.poll(cx));
                    return Poll::Ready(Some(Err(cut_off(this.armed, Trip::Stalled))));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

fn cut_off(armed: &Option<Armed>, trip: Trip) -> nubes_core::BoxError {
    if let Some(armed) = armed {
        armed.trip(trip);
    }
    Box::new(BodyCutOff(trip))
}
