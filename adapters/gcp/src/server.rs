//! Starting, running and stopping the Cloud Run server.

use std::net::SocketAddr;
use std::sync::Arc;

use nubes_core::raw::AppDispatch as _;
use nubes_core::{App, Error, Platform};
use tokio::task::JoinHandle;

use crate::auth::Verifier;
use crate::config::Mode;
use crate::runtime::{Runtime, SharedRuntime};
use crate::{CloudLogging, GcpConfig, routes};

/// How long cut-off requests get to send their `503` after the grace period.
const CUT_OFF_FLUSH: std::time::Duration = std::time::Duration::from_millis(500);

/// A running adapter. Stop it with [`GcpServer::shutdown`].
pub struct GcpServer {
    addr: SocketAddr,
    rt: SharedRuntime,
    server: JoinHandle<()>,
    #[cfg(feature = "pubsub-pull")]
    pull: Option<crate::pull::PullWorkers>,
}

impl std::fmt::Debug for GcpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GcpServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// Validates `app`, binds `config.host:config.port` and starts serving in the
/// background (and, in pull mode, pulling every queue trigger's subscription).
pub async fn start(app: App, config: GcpConfig) -> Result<GcpServer, Error> {
    app.validate_on(Platform::Gcp)?;
    if config.pull.mode == Mode::Pull && !cfg!(feature = "pubsub-pull") {
        return Err(Error::config(
            "NUBES_GCP_MODE=pull needs the pull worker: build with nubes' `gcp-pubsub-pull` feature",
        ));
    }
    let verifier = config.push_auth.clone().map(Verifier::new).transpose()?;
    let addr = SocketAddr::new(config.host, config.port);
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        Error::platform(format!(
            "cannot listen on {addr}: {e} (set PORT or NUBES_HOST to use another address)"
        ))
        .with_source(e)
    })?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::platform(format!("reading the bound address: {e}")))?;
    let rt: SharedRuntime = Arc::new(Runtime::new(app, config, verifier));
    #[cfg(feature = "pubsub-pull")]
    let pull = match rt.config.pull.mode {
        Mode::Pull => Some(crate::pull::start(rt.clone()).await?),
        Mode::Push => None,
    };
    let serve = nubes_serve::serve(
        listener,
        routes::build(rt.clone()),
        rt.config.max_body_bytes as u64,
        nubes_serve::ServeConfig::new(rt.config.header_read_timeout, rt.config.body_read_timeout),
        rt.shutdown.clone(),
    );
    let server = tokio::spawn(serve);
    Ok(GcpServer {
        addr,
        rt,
        server,
        #[cfg(feature = "pubsub-pull")]
        pull,
    })
}

impl GcpServer {
    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting requests (and pulling), then waits up to the grace
    /// period for in-flight requests and pulled messages to finish; work still
    /// running after that is cut off and logged (the platform redelivers it).
    pub async fn shutdown(self) -> Result<(), Error> {
        let grace = self.rt.config.shutdown_grace;
        let deadline = tokio::time::Instant::now() + grace;
        self.rt.shutdown.cancel();
        #[cfg(feature = "pubsub-pull")]
        if let Some(pull) = self.pull {
            pull.stop(deadline).await;
        }
        let mut server = self.server;
        match tokio::time::timeout_at(deadline, &mut server).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "HTTP server task failed"),
            Err(_) => {
                tracing::error!(
                    grace_ms = grace.as_millis() as u64,
                    "requests still running after the grace period were cut off; \
                     their events were not acknowledged and will be redelivered"
                );
                self.rt.cut_off.cancel();
                // The cut-off replies take a moment to be written.
                if tokio::time::timeout(CUT_OFF_FLUSH, &mut server)
                    .await
                    .is_err()
                {
                    server.abort();
                }
            }
        }
        self.rt.metrics.flush(); // the last interval's metrics, before exit
        Ok(())
    }
}

/// Runs `app` on Cloud Run with settings from the environment until SIGTERM,
/// then drains in-flight work within the grace period and returns.
pub async fn run(app: App) -> Result<(), Error> {
    let mut config = GcpConfig::from_env()?;
    let ask_metadata = config.project_id.is_none() && std::env::var_os("K_SERVICE").is_some();
    let mode = config.pull.mode;
    if ask_metadata && mode == Mode::Pull {
        // The pull worker cannot start without the project.
        config.project_id = crate::metadata::project_id().await;
    }
    let logging = CloudLogging::new(config.project_id.clone());
    let project_slot = logging.project_slot();
    logging.init();
    let description = app.describe();
    let auth = config.push_auth.is_some();
    let look_up_later = ask_metadata && config.project_id.is_none();
    let server = start(app, config).await?;
    if look_up_later {
        // Only log lines need the project (for trace links): ask the metadata
        // server after the port is open, not on the cold-start path (a DNS
        // lookup and an HTTP round trip).
        tokio::spawn(async move {
            if let Some(project) = crate::metadata::project_id().await {
                let _ = project_slot.set(project);
            }
        });
    }
    tracing::info!(
        address = %server.local_addr(),
        http = description.http,
        triggers = description.triggers.len(),
        push_auth = auth,
        pull = mode == Mode::Pull,
        "nubes is serving on Cloud Run"
    );
    nubes_core::raw::termination_signal().await;
    tracing::info!("SIGTERM: no longer accepting requests; finishing in-flight work");
    server.shutdown().await
}
