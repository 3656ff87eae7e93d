//! `nubes dev`: build, run on the local runner, rebuild and restart on change.

use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::{RecursiveMode, Watcher as _};
use nubes_core::TriggerKind;
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use crate::args::DevArgs;
use crate::cargo::{self, BuildRequest};
use crate::error::CliError;
use crate::progress::Step;

/// Quiet time after a change before rebuilding, so a save of several files
/// triggers one build.
const SETTLE: Duration = Duration::from_millis(300);

pub(crate) async fn run(args: &DevArgs) -> Result<(), CliError> {
    let root = cargo::workspace_root()?;
    let (tx, mut changes) = mpsc::unbounded_channel::<PathBuf>();
    let watch_root = root.clone();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(event) = res
            && event_changes_content(&event.kind)
            && let Some(path) = event.paths.iter().find(|p| is_source(&watch_root, p))
        {
            let _ = tx.send(path.clone());
        }
    })
    .map_err(|e| CliError::new(format!("cannot watch {}: {e}", root.display())))?;
    watcher
        .watch(&root, RecursiveMode::Recursive)
        .map_err(|e| CliError::new(format!("cannot watch {}: {e}", root.display())))?;

    loop {
        let mut child = start(args).await;
        tokio::select! {
            Some(changed) = changes.recv() => {
                while let Ok(Some(_)) = tokio::time::timeout(SETTLE, changes.recv()).await {}
                let shown = changed.strip_prefix(&root).unwrap_or(&changed).display().to_string();
                eprintln!("nubes dev: {shown} changed, rebuilding");
                if let Some(child) = child.as_mut() {
                    stop(child).await;
                }
            }
            () = nubes_core::raw::termination_signal() => {
                if let Some(child) = child.as_mut() {
                    stop(child).await;
                }
                return Ok(());
            }
        }
    }
}

/// Builds and starts the app; `None` (after printing why) when the build or
/// start fails: `dev` then waits for the next change.
async fn start(args: &DevArgs) -> Option<Child> {
    let package = args.package.clone();
    let step = Step::start("building");
    let built = tokio::task::spawn_blocking(move || {
        let request = BuildRequest {
            package: package.as_deref(),
            ..BuildRequest::default()
        };
        let exe = cargo::build(&request)?;
        let description = cargo::describe(&exe)?;
        Ok::<_, CliError>((exe, description))
    })
    .await;
    let (exe, description) = match built {
        Ok(Ok(built)) => built,
        Ok(Err(err)) => {
            drop(step);
            eprintln!("{err}\nnubes dev: waiting for changes");
            return None;
        }
        Err(err) => {
            drop(step);
            eprintln!("error: build task failed: {err}");
            return None;
        }
    };
    step.done(format!("built {}", exe.display()));
    let url = format!("http://127.0.0.1:{}", args.port);
    eprintln!("nubes dev: serving on {url}");
    if description.http {
        eprintln!("  http      {url}/");
    }
    for t in &description.triggers {
        let how = match t.kind {
            TriggerKind::Queue => format!("nubes invoke {} --body '…'", t.name),
            TriggerKind::Storage => format!("nubes invoke {} --key KEY --body '…'", t.name),
            TriggerKind::Schedule => format!(
                "{} UTC; nubes invoke {}",
                t.schedule.as_deref().unwrap_or(""),
                t.name
            ),
            _ => String::new(),
        };
        eprintln!("  {:<9} {:<16} {how}", t.kind.as_str(), t.name);
    }
    eprintln!("  console   {url}/_nubes/");
    match Command::new(&exe)
        .env("PORT", args.port.to_string())
        .env("NUBES_PLATFORM", "local")
        .kill_on_drop(true)
        .spawn()
    {
        Ok(child) => Some(child),
        Err(err) => {
            eprintln!("error: cannot start {}: {err}", exe.display());
            None
        }
    }
}

/// SIGTERM (the runner drains in-flight work), then SIGKILL after 10 s.
async fn stop(child: &mut Child) {
    if let Some(pid) = child.id() {
        let _ = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await;
    }
    if tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .is_err()
    {
        let _ = child.kill().await;
    }
}

/// Only writes, creations, removals and renames count: reading a file (the
/// compiler opening every source) must not trigger a rebuild.
fn event_changes_content(kind: &notify::EventKind) -> bool {
    use notify::EventKind;
    use notify::event::{AccessKind, AccessMode};
    match kind {
        EventKind::Create(_) | EventKind::Remove(_) => true,
        EventKind::Modify(notify::event::ModifyKind::Metadata(_)) => false,
        EventKind::Modify(_) => true,
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        _ => false,
    }
}

/// Rust sources and manifests, outside build output and runner state.
fn is_source(root: &Path, path: &Path) -> bool {
    let Ok(rel) = path.strip_prefix(root) else {
        return false;
    };
    let skipped = rel.components().any(|c| {
        let c = c.as_os_str();
        c == "target" || c == ".nubes" || c == ".git"
    });
    let relevant = match path.extension().and_then(|e| e.to_str()) {
        Some("rs") => true,
        _ => path.file_name().is_some_and(|n| n == "Cargo.toml"),
    };
    !skipped && relevant
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sources_outside_build_output_count() {
        let root = std::path::PathBuf::from("/p");
        assert!(is_source(&root, Path::new("/p/src/main.rs")));
        assert!(is_source(&root, Path::new("/p/Cargo.toml")));
        assert!(!is_source(&root, Path::new("/p/target/debug/build/x.rs")));
        assert!(!is_source(&root, Path::new("/p/.nubes/storage/up/a.rs")));
        assert!(!is_source(&root, Path::new("/p/README.md")));
        assert!(!is_source(&root, Path::new("/elsewhere/main.rs")));
    }
}
