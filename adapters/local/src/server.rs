//! Starting, running and stopping the local runner.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;

use nubes_core::raw::AppDispatch as _;
use nubes_core::{App, CancellationToken, Error, Platform, TriggerKind};
use tokio_util::task::TaskTracker;

use crate::LocalConfig;
use crate::dead_letters::DeadLetters;
use crate::delivery::{self, Delivery};
use crate::runtime::{Runtime, SharedRuntime};
use crate::spool::{Spool, Staged};
use crate::storage_folder::StorageFolder;
use crate::{router, scheduler, watcher};

/// A running local runner. Stop it with [`LocalServer::shutdown`].
#[derive(Debug)]
pub struct LocalServer {
    rt: SharedRuntime,
    server: nubes_serve::Running,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Validates `app`, binds `config.host:config.port` and starts serving in the
/// background: HTTP, queues, the storage folder (and its watcher) and schedules.
pub async fn start(app: App, config: LocalConfig) -> Result<LocalServer, Error> {
    app.validate_on(Platform::Local)?;
    let description = app.describe();
    let buckets = description
        .triggers
        .iter()
        .filter(|t| t.kind == TriggerKind::Storage)
        .map(|t| t.name.as_str());
    let storage = StorageFolder::open(&config.data_dir, buckets)?;
    let bound = nubes_serve::bind(
        SocketAddr::new(config.host, config.port),
        "set PORT or NUBES_HOST to use another address",
    )
    .await?;
    let dead_letters = DeadLetters::open(&config.data_dir)?;
    let spool = Spool::open(&config.data_dir)?;
    let has_storage = description
        .triggers
        .iter()
        .any(|t| t.kind == TriggerKind::Storage);
    let rt: SharedRuntime = Arc::new(Runtime {
        app,
        config,
        dead_letters,
        spool,
        storage,
        deliveries: TaskTracker::new(),
        shutdown: CancellationToken::new(),
        metrics: Default::default(),
    });
    resume_spooled(&rt);
    if rt.config.watch_storage && has_storage {
        watcher::start(&rt)?;
    }
    if rt.config.run_schedules {
        scheduler::start(&rt);
    }
    let server = bound.spawn(
        router::build(rt.clone()),
        rt.config.max_body_bytes as u64,
        nubes_serve::ServeConfig::new(rt.config.header_read_timeout, rt.config.body_read_timeout),
        rt.shutdown.clone(),
        rt.config.shutdown_grace,
    );
    Ok(LocalServer { rt, server })
}

/// Redelivers the events an earlier run accepted but did not finish. A
/// storage event spooled before its object change is delivered only if the
/// change was made before the run ended (else it is withdrawn), then `tmp/`
/// is cleared of what no spooled event needs.
fn resume_spooled(rt: &SharedRuntime) {
    let mut records = rt.spool.load();
    records.retain(|spooled| match &spooled.record.staged {
        Some(staged) if !rt.storage.was_made(staged) => {
            tracing::warn!(id = %spooled.record.id, trigger = %spooled.record.trigger, "a storage change interrupted before it was made is rolled back; its event is withdrawn");
            if rt.spool.remove(&spooled.key) && let Staged::Upload(name) = staged {
                rt.storage.purge(name);
            }
            false
        }
        _ => true,
    });
    let staged: HashSet<String> = records
        .iter()
        .filter_map(|spooled| match &spooled.record.staged {
            Some(Staged::Upload(name) | Staged::Removed(name)) => Some(name.clone()),
            None => None,
        })
        .collect();
    rt.storage.clean_tmp(&staged);
    if records.is_empty() {
        return;
    }
    tracing::warn!(
        count = records.len(),
        "resuming events left unfinished by an earlier run"
    );
    for spooled in records {
        let record = &spooled.record;
        let kind = match &record.event {
            delivery::LocalEvent::Queue(_) => TriggerKind::Queue,
            delivery::LocalEvent::Storage(_) => TriggerKind::Storage,
            delivery::LocalEvent::Schedule(_) => TriggerKind::Schedule,
        };
        if !rt.app.has_trigger(kind, &record.trigger) {
            tracing::error!(id = %record.id, trigger = %record.trigger, %kind, "spooled event for a trigger this app no longer registers; left in the spool");
            continue;
        }
        delivery::start(rt, Delivery::resumed(spooled));
    }
}

impl LocalServer {
    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// `http://<addr>`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Stops accepting work and waits, up to the grace period, for in-flight
    /// requests and event deliveries to finish. Events waiting for a retry are
    /// logged at error level with their content (they were not handled).
    pub async fn shutdown(self) -> Result<(), Error> {
        let deadline = self.server.stop();
        let served = self.server.drain(deadline, None).await;
        self.rt.deliveries.close();
        if tokio::time::timeout_at(deadline, self.rt.deliveries.wait())
            .await
            .is_err()
        {
            tracing::error!(
                running = self.rt.deliveries.len(),
                "event deliveries still running after the grace period were abandoned"
            );
        }
        served
    }
}

/// Runs `app` with settings from the environment until Ctrl-C or SIGTERM,
/// then drains in-flight work.
pub async fn run(app: App) -> Result<(), Error> {
    let config = LocalConfig::from_env()?;
    let data_dir = config.data_dir.clone();
    let description = app.describe();
    let server = start(app, config).await?;
    let url = server.url();
    eprintln!("nubes local runner listening on {url}");
    if description.http {
        eprintln!("  http      every path outside /_nubes/");
    }
    for t in &description.triggers {
        let name = &t.name;
        match t.kind {
            TriggerKind::Queue => {
                eprintln!("  queue     {name:<14} POST {url}/_nubes/queues/{name}")
            }
            TriggerKind::Storage => eprintln!(
                "  storage   {name:<14} PUT|DELETE {url}/_nubes/storage/{name}/<key>  (folder {})",
                data_dir.join("storage").join(name).display()
            ),
            TriggerKind::Schedule => eprintln!(
                "  schedule  {name:<14} {} (UTC); POST {url}/_nubes/schedules/{name} fires it now",
                t.schedule.as_deref().unwrap_or_default()
            ),
            _ => {}
        }
    }
    eprintln!("  console   {url}/_nubes/");
    nubes_core::raw::termination_signal().await;
    eprintln!("nubes local runner: shutting down, draining in-flight work");
    server.shutdown().await
}
