//! The accept loop.

use std::borrow::Cow;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body as AxumBody;
use http::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use nubes_core::CancellationToken;
use tokio::net::TcpListener;
use tower::Service;

use crate::guard::Guard;
use crate::header_timer::ConnectionTimer;
use crate::protocol::{self, Protocol};
use crate::{BodyLimit, ServeConfig};

/// Serves `service` on every connection `listener` accepts, with the body
/// limit `limit` and the timeouts of `config`, until `shutdown` is cancelled;
/// then stops accepting, lets in-flight requests finish and resolves once
/// every connection is closed.
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use nubes_core::CancellationToken;
/// use nubes_serve::{ServeConfig, serve};
///
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let router = axum::Router::new().route("/", axum::routing::get(|| async { "hi" }));
/// let shutdown = CancellationToken::new();
/// let server = tokio::spawn(serve(listener, router, 6 * 1024 * 1024, ServeConfig::DEFAULT, shutdown.clone()));
/// shutdown.cancel();
/// let _ = tokio::time::timeout(std::time::Duration::from_secs(10), server).await;
/// # Ok(()) }
/// ```
pub async fn serve<S, L>(
    listener: TcpListener,
    service: S,
    limit: L,
    config: ServeConfig,
    shutdown: CancellationToken,
) where
    S: Service<Request<AxumBody>, Response = Response<AxumBody>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send,
    L: BodyLimit,
{
    let builders = Arc::new(Builders::new(&config));
    let graceful = GracefulShutdown::new();
    loop {
        let stream = tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(err) => {
                    accept_failed(err).await;
                    continue;
                }
            },
        };
        let watcher = graceful.watcher();
        let (service, limit, builders, shutdown) = (
            service.clone(),
            limit.clone(),
            builders.clone(),
            shutdown.clone(),
        );
        tokio::spawn(async move {
            let protocol = tokio::select! {
                protocol = protocol::detect(&stream, config.header_read_timeout) => protocol,
                () = shutdown.cancelled() => None,
            };
            let Some(protocol) = protocol else {
                return;
            };
            // Small responses go out at once rather than after Nagle's delay.
            let _ = stream.set_nodelay(true);
            let guard = Guard::new(service, limit, config, protocol == Protocol::Http1);
            let builder = builders.for_connection(protocol);
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), guard);
            if let Err(err) = watcher.watch(connection).await {
                tracing::debug!(error = %err, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// One connection builder per protocol, made once.
struct Builders {
    http1: Builder<TokioExecutor>,
    http2: Builder<TokioExecutor>,
    /// HTTP/1.1 connections get a timer of their own (see [`ConnectionTimer`]).
    header_timer: bool,
}

impl Builders {
    fn new(config: &ServeConfig) -> Self {
        let mut http1 = Builder::new(TokioExecutor::new()).http1_only();
        let header_timer = !config.header_read_timeout.is_zero();
        if header_timer {
            http1
                .http1()
                .header_read_timeout(config.header_read_timeout);
        }
        let mut http2 = Builder::new(TokioExecutor::new()).http2_only();
        // CONNECT for HTTP/2 WebSockets, as axum::serve does.
        http2
            .http2()
            .timer(TokioTimer::new())
            .enable_connect_protocol();
        Builders {
            http1,
            http2,
            header_timer,
        }
    }

    /// The builder of one connection: HTTP/1.1 connections with a header-read
    /// timeout get their own [`ConnectionTimer`], which costs one Tokio timer
    /// per connection instead of one per request.
    fn for_connection(&self, protocol: Protocol) -> Cow<'_, Builder<TokioExecutor>> {
        match protocol {
            Protocol::Http1 if self.header_timer => {
                let mut http1 = self.http1.clone();
                http1.http1().timer(ConnectionTimer::new());
                Cow::Owned(http1)
            }
            Protocol::Http1 => Cow::Borrowed(&self.http1),
            Protocol::Http2 => Cow::Borrowed(&self.http2),
        }
    }
}

/// A failed accept: a client that gave up is no news; anything else (out of
/// file descriptors) is logged and retried after a pause, as hyper 0.14 did.
async fn accept_failed(err: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        err.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %err, "accepting a connection failed; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
