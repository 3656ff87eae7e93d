//! Starting, running and stopping the Cloud Run server.

use std::net::SocketAddr;
use std::sync::Arc;

use nubes_core::raw::AppDispatch as _;
use nubes_core::{App, Error, Platform};

use crate::auth::Verifier;
use crate::config::Mode;
use crate::runtime::{Runtime, SharedRuntime};
use crate::{CloudLogging, GcpConfig, routes};

/// A running adapter. Stop it with [`GcpServer::shutdown`].
pub struct GcpServer {
    rt: SharedRuntime,
    server: nubes_serve::Running,
    #[cfg(feature = "pubsub-pull")]
    pull: Option<crate::pull::PullWorkers>,
}

impl std::fmt::Debug for GcpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GcpServer")
            .field("addr", &self.server.local_addr())
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
    let bound = nubes_serve::bind(
        SocketAddr::new(config.host, config.port),
        "set PORT or NUBES_HOST to use another address",
    )
    .await?;
    let rt: SharedRuntime = Arc::new(Runtime::new(app, config, verifier));
    #[cfg(feature = "pubsub-pull")]
    let pull = match rt.config.pull.mode {
        Mode::Pull => Some(crate::pull::start(rt.clone()).await?),
        Mode::Push => None,
    };
    let server = bound.spawn(
        routes::build(rt.clone()),
        rt.config.max_body_bytes as u64,
        nubes_serve::ServeConfig::new(rt.config.header_read_timeout, rt.config.body_read_timeout),
        rt.shutdown.clone(),
        rt.config.shutdown_grace,
    );
    Ok(GcpServer {
        rt,
        server,
        #[cfg(feature = "pubsub-pull")]
        pull,
    })
}

impl GcpServer {
    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// `http://<addr>`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Stops accepting requests (and pulling), then waits up to the grace
    /// period for in-flight requests and pulled messages to finish; work still
    /// running after that is cut off and logged (the platform redelivers it).
    pub async fn shutdown(self) -> Result<(), Error> {
        let deadline = self.server.stop();
        #[cfg(feature = "pubsub-pull")]
        if let Some(pull) = self.pull {
            pull.stop(deadline).await;
        }
        // Cut-off requests answer `503` (see `routes::cut_off`).
        let served = self.server.drain(deadline, Some(&self.rt.cut_off)).await;
        self.rt.metrics.flush(); // the last interval's metrics, before exit
        served
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
