//! The server as an adapter holds it: bound, serving in the background, and
//! drained the same way on shutdown by the local runner, gcp and azure.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body as AxumBody;
use http::{Request, Response};
use nubes_core::{CancellationToken, Error};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tower::Service;

use crate::{BodyLimit, ServeConfig};

/// How long requests cut off at the end of the grace period get to send
/// their answer before the server task is aborted.
const CUT_OFF_FLUSH: Duration = Duration::from_millis(500);

/// A listening socket, not serving yet: bind first, so a taken port fails
/// `start` before anything else is started.
#[derive(Debug)]
pub struct Bound {
    listener: TcpListener,
    addr: SocketAddr,
}

/// Binds `addr`. The error says which settings choose the address (`hint`,
/// e.g. `"set PORT or NUBES_HOST to use another address"`).
pub async fn bind(addr: SocketAddr, hint: &str) -> Result<Bound, Error> {
    let listener = TcpListener::bind(addr).await.map_err(|e| {
        Error::platform(format!("cannot listen on {addr}: {e} ({hint})")).with_source(e)
    })?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::platform(format!("reading the bound address: {e}")).with_source(e))?;
    Ok(Bound { listener, addr })
}

impl Bound {
    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Starts [`serve`](crate::serve) in the background until `shutdown` is
    /// cancelled; [`Running::stop`] cancels it and gives in-flight requests
    /// `grace` to finish.
    pub fn spawn<S, L>(
        self,
        service: S,
        limit: L,
        config: ServeConfig,
        shutdown: CancellationToken,
        grace: Duration,
    ) -> Running
    where
        S: Service<Request<AxumBody>, Response = Response<AxumBody>, Error = Infallible>
            + Clone
            + Send
            + 'static,
        S::Future: Send,
        L: BodyLimit,
    {
        let task = tokio::spawn(crate::serve(
            self.listener,
            service,
            limit,
            config,
            shutdown.clone(),
        ));
        Running {
            addr: self.addr,
            task,
            shutdown,
            grace,
        }
    }
}

/// A server serving in the background.
#[derive(Debug)]
pub struct Running {
    addr: SocketAddr,
    task: JoinHandle<()>,
    shutdown: CancellationToken,
    grace: Duration,
}

impl Running {
    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Begins shutdown: cancels the shutdown token (no connection is accepted
    /// any more; handlers see [`Context::shutdown`](nubes_core::Context::shutdown)
    /// cancelled) and returns the end of the grace period, the deadline for
    /// [`drain`](Self::drain) and for the adapter's other in-flight work.
    pub fn stop(&self) -> Instant {
        self.shutdown.cancel();
        Instant::now() + self.grace
    }

    /// Waits, once [`stop`](Self::stop) was called, for in-flight requests to
    /// finish until `deadline`. Requests still running then are cut off: `cut_off` is
    /// cancelled so they can answer (they get a moment to), then the server
    /// task is aborted; that is logged at error level, their events are
    /// redelivered by the platform. A server task that failed (panicked) is a
    /// [`Platform`](nubes_core::ErrorKind::Platform) error.
    pub async fn drain(
        self,
        deadline: Instant,
        cut_off: Option<&CancellationToken>,
    ) -> Result<(), Error> {
        let (grace, mut task) = (self.grace, self.task);
        match tokio::time::timeout_at(deadline, &mut task).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(Error::platform(format!("the HTTP server task failed: {e}"))),
            Err(_) => {
                tracing::error!(
                    grace_ms = grace.as_millis() as u64,
                    "requests still running after the grace period (NUBES_SHUTDOWN_GRACE_MS) \
                     were cut off; their events were not acknowledged and will be redelivered"
                );
                if let Some(cut_off) = cut_off {
                    cut_off.cancel();
                    if tokio::time::timeout(CUT_OFF_FLUSH, &mut task).await.is_ok() {
                        return Ok(());
                    }
                }
                task.abort();
                Ok(())
            }
        }
    }
}
