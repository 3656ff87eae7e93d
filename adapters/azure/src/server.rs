//! Starting, running and stopping the custom-handler server.

use std::net::SocketAddr;
use std::sync::Arc;

use nubes_core::raw::AppDispatch as _;
use nubes_core::{App, CancellationToken, Error, Platform};

use crate::runtime::{Runtime, SharedRuntime};
use crate::{AzureConfig, logs, router};

/// A running custom handler. Stop it with [`AzureServer::shutdown`].
#[derive(Debug)]
pub struct AzureServer {
    rt: SharedRuntime,
    server: nubes_serve::Running,
}

/// Validates `app`, binds `config.host:config.port` and serves the
/// custom-handler protocol in the background. Returns once the port accepts
/// connections (the host waits for that, at most 60 s).
pub async fn start(app: App, config: AzureConfig) -> Result<AzureServer, Error> {
    app.validate_on(Platform::Azure)?;
    let http_function = &config.http_function;
    if crate::function_name::is_reserved(&http_function.to_ascii_lowercase()) {
        return Err(Error::config(format!(
            "the HTTP function name `{http_function}` starts with `{}`, which event functions \
             use; set NUBES_AZURE_HTTP_FUNCTION to another name",
            crate::RESERVED_PREFIX
        )));
    }
    let bound = nubes_serve::bind(
        SocketAddr::new(config.host, config.port),
        "the port is FUNCTIONS_CUSTOMHANDLER_PORT",
    )
    .await?;
    let rt: SharedRuntime = Arc::new(Runtime::new(app, config));
    let server = bound.spawn(
        router::build(rt.clone()),
        Limit(rt.clone()),
        nubes_serve::ServeConfig::new(rt.config.header_read_timeout, rt.config.body_read_timeout),
        CancellationToken::clone(&rt.shutdown),
        rt.config.shutdown_grace,
    );
    Ok(AzureServer { rt, server })
}

/// The body limit of a request: the host's invocation requests
/// (`POST /{function}` for a function of this app) may be larger than the
/// requests for the app's routes.
#[derive(Clone)]
struct Limit(SharedRuntime);

impl nubes_serve::BodyLimit for Limit {
    fn max_body_bytes(&self, request: &http::Request<nubes_serve::Incoming>) -> u64 {
        let config = &self.0.config;
        if self.is_invocation(request) {
            config.max_invocation_bytes as u64
        } else {
            config.max_body_bytes as u64
        }
    }

    fn setting(&self, request: &http::Request<nubes_serve::Incoming>) -> &'static str {
        if self.is_invocation(request) {
            "NUBES_AZURE_MAX_INVOCATION_BYTES"
        } else {
            "NUBES_MAX_BODY_BYTES"
        }
    }
}

impl Limit {
    fn is_invocation(&self, request: &http::Request<nubes_serve::Incoming>) -> bool {
        request.method() == http::Method::POST
            && crate::router::single_segment(request.uri().path())
                .is_some_and(|name| self.0.function(name).is_some())
    }
}

impl AzureServer {
    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// `http://<addr>`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Stops accepting connections and waits, up to the grace period, for
    /// in-flight invocations to finish.
    pub async fn shutdown(self) -> Result<(), Error> {
        let deadline = self.server.stop();
        let result = self.server.drain(deadline, None).await;
        // The last interval's metrics, before the process exits.
        self.rt.metrics.flush();
        result
    }
}

/// Runs `app` as an Azure Functions custom handler: settings from the
/// environment, JSON logs on stdout, until SIGTERM / Ctrl-C, then drains.
pub async fn run(app: App) -> Result<(), Error> {
    let config = AzureConfig::from_env()?;
    logs::init();
    let server = start(app, config).await?;
    tracing::info!(address = %server.local_addr(), "nubes Azure Functions custom handler ready");
    nubes_core::raw::termination_signal().await;
    tracing::info!("shutting down, draining in-flight invocations");
    server.shutdown().await
}
