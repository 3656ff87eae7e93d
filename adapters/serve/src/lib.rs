//! The HTTP server loop of the nubes adapters that listen on a port (the local
//! runner, Cloud Run, Azure Functions custom handlers), written once.
//!
//! [`serve`] accepts connections and serves each with hyper (HTTP/1.1, or
//! HTTP/2 with prior knowledge as Cloud Run's end-to-end HTTP/2 sends it), and
//! adds what `axum::serve` does not have:
//!
//! - **body limits**: a request whose `Content-Length` is over the limit is
//!   answered `413` at once, without reading its body; a body without a length
//!   (chunked) is read until the limit is passed, then the request is answered
//!   `413` whatever its handler made of the cut-off body. Both are JSON errors
//!   (`{"error":{"kind":"invalid_event","message":…}}`) and close the connection;
//! - **slow clients time out**: request headers must arrive within
//!   [`ServeConfig::header_read_timeout`] (a connection that sends half a
//!   request line is closed), and a request body that stops arriving for
//!   [`ServeConfig::body_read_timeout`] ends the request with a JSON `408`;
//! - **graceful shutdown**: once the token is cancelled, no connection is
//!   accepted any more, idle keep-alive connections are closed, busy ones
//!   close after their in-flight response (HTTP/2: `GOAWAY`), and the future
//!   returned by [`serve`] resolves when the last one is done. The caller
//!   bounds that wait with its grace period.
//!
//! Per request, the limits add no allocation to what `axum::serve` does (the
//! one box of the request body is the same box, and HTTP/1.1 requests share
//! their connection's flag); an HTTP/2 stream with a body allocates one small
//! flag, as the streams of a connection run concurrently. hyper's header read
//! timer costs one small box per request head while the header timeout is on
//! (`NUBES_HEADER_READ_TIMEOUT_MS=0` turns it off).

#![cfg_attr(docsrs, feature(doc_cfg))]

mod body;
mod config;
mod guard;
mod header_timer;
mod protocol;
mod server;
mod split;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
mod tripwire;

pub use config::{BodyLimit, ServeConfig};
pub use server::serve;
pub use split::PrefixSplit;

/// Re-exported: the body type of the requests a [`BodyLimit`] looks at.
pub use hyper::body::Incoming;
