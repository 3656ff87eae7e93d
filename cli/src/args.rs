//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::platform::{Arch, Platform};

/// nubes: write a serverless function once, run it on AWS Lambda, Google Cloud
/// Run, Azure Functions or locally.
#[derive(Debug, Parser)]
#[command(name = "nubes", version)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create a new project from the built-in template (no network needed).
    New(NewArgs),
    /// Run the app with the local runner; rebuild and restart when sources change.
    Dev(DevArgs),
    /// Build the deployable artefacts for a platform (size-optimised release).
    Build(BuildArgs),
    /// Print the manifests for a platform without building the artefacts.
    Manifest(ManifestArgs),
    /// Send an event to a running app.
    Invoke(InvokeArgs),
}

#[derive(Debug, Clone, Args)]
pub(crate) struct BuildArgs {
    /// The platform to build for.
    // `--target`, its old name, stays a hidden alias: to cargo a target is a triple.
    #[arg(long, alias = "target")]
    pub(crate) platform: Platform,
    /// CPU architecture.
    #[arg(long, value_enum, default_value_t = Arch::X86_64)]
    pub(crate) arch: Arch,
    /// The package to build (needed in a workspace with several binaries).
    #[arg(short, long)]
    pub(crate) package: Option<String>,
    /// Use the dev profile (fast to build, large; for trying artefacts out).
    #[arg(long)]
    pub(crate) debug: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ManifestArgs {
    /// The platform whose manifests to print.
    #[arg(long, alias = "target")]
    pub(crate) platform: Platform,
    /// The package (needed in a workspace with several binaries).
    #[arg(short, long)]
    pub(crate) package: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct NewArgs {
    /// Name of the project (and of the folder created for it).
    pub(crate) name: String,
    /// Depend on the nubes checkout at this path (default: the one this
    /// command was built from).
    #[arg(long, conflicts_with = "nubes_version")]
    pub(crate) nubes_path: Option<PathBuf>,
    /// Depend on this published version of nubes instead of a checkout.
    #[arg(long)]
    pub(crate) nubes_version: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct DevArgs {
    /// The package to run (needed in a workspace with several binaries).
    #[arg(short, long)]
    pub(crate) package: Option<String>,
    /// Port of the local runner.
    #[arg(long, default_value_t = 3000)]
    pub(crate) port: u16,
}

#[derive(Debug, Args)]
pub(crate) struct InvokeArgs {
    /// The trigger (queue, bucket or schedule name) to send the event to.
    pub(crate) trigger: String,
    /// Read the event body from this file.
    #[arg(long, conflicts_with = "body")]
    pub(crate) event: Option<PathBuf>,
    /// The event body as text.
    #[arg(long)]
    pub(crate) body: Option<String>,
    /// Object key, for storage triggers.
    #[arg(long)]
    pub(crate) key: Option<String>,
    /// Message attribute `KEY=VALUE`, for queue triggers (repeatable).
    #[arg(long = "attr", value_parser = parse_attribute)]
    pub(crate) attributes: Vec<(String, String)>,
    /// Wrap the event in this platform's wire format (default: the local runner).
    #[arg(long, alias = "target", value_enum, default_value_t = InvokePlatform::Local)]
    pub(crate) platform: InvokePlatform,
    /// The trigger's kind, for the other platforms (default: asked from the app,
    /// which builds the package in the current folder).
    #[arg(long, value_enum)]
    pub(crate) kind: Option<EventKind>,
    /// The package that defines the trigger (to look up its kind).
    #[arg(short, long)]
    pub(crate) package: Option<String>,
    /// AWS: the function name in the Runtime API emulator (cargo-lambda names
    /// functions after their binary).
    #[arg(long)]
    pub(crate) function: Option<String>,
    /// Base URL: of the local runner (default http://127.0.0.1:3000), the
    /// Lambda emulator (default http://127.0.0.1:9000), the Cloud Run
    /// container (default http://127.0.0.1:8080) or the Azure custom handler
    /// (default http://127.0.0.1:7071).
    #[arg(long)]
    pub(crate) url: Option<String>,
    /// Seconds to wait for the reply.
    #[arg(long, default_value_t = 60)]
    pub(crate) timeout: u64,
}

/// The platform whose wire format `nubes invoke` speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum InvokePlatform {
    /// The local runner's `/_nubes/` endpoints.
    Local,
    /// A Lambda Runtime API emulator (`cargo lambda watch`), as a Lambda event.
    Aws,
    /// The app in Cloud Run mode: push envelope, CloudEvent or scheduler call.
    Gcp,
    /// The app as an Azure custom handler: a `Data`/`Metadata` invocation.
    Azure,
}

impl InvokePlatform {
    pub(crate) fn default_url(self) -> &'static str {
        match self {
            InvokePlatform::Local => "http://127.0.0.1:3000",
            InvokePlatform::Aws => "http://127.0.0.1:9000",
            InvokePlatform::Gcp => "http://127.0.0.1:8080",
            InvokePlatform::Azure => "http://127.0.0.1:7071",
        }
    }

    /// The app's cargo feature for this platform's adapter.
    pub(crate) fn feature(self) -> &'static str {
        match self {
            InvokePlatform::Local => "local",
            InvokePlatform::Aws => "aws",
            InvokePlatform::Gcp => "gcp",
            InvokePlatform::Azure => "azure",
        }
    }
}

/// A trigger kind, as given on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum EventKind {
    /// A queue message.
    Queue,
    /// An object notification.
    Storage,
    /// A schedule firing.
    Schedule,
}

fn parse_attribute(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("`{s}` is not KEY=VALUE")),
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory as _, Parser as _};

    use super::*;

    fn platform_of(args: &[&str]) -> Platform {
        match Cli::try_parse_from(args).map(|cli| cli.command) {
            Ok(Command::Build(b)) => b.platform,
            Ok(Command::Manifest(m)) => m.platform,
            other => panic!("{args:?} parsed as {other:?}"),
        }
    }

    #[test]
    fn the_platform_is_named_with_platform_and_target_is_a_hidden_alias() {
        assert_eq!(
            platform_of(&["nubes", "build", "--platform", "gcp"]),
            Platform::Gcp
        );
        assert_eq!(
            platform_of(&["nubes", "manifest", "--target", "azure"]),
            Platform::Azure
        );
        let invoke = Cli::try_parse_from(["nubes", "invoke", "orders", "--platform", "aws"]);
        assert!(
            matches!(invoke.map(|c| c.command), Ok(Command::Invoke(i)) if i.platform == InvokePlatform::Aws)
        );
        for sub in ["build", "manifest", "invoke"] {
            let mut cmd = Cli::command();
            let help = cmd
                .find_subcommand_mut(sub)
                .map(|c| c.render_long_help().to_string())
                .unwrap_or_default();
            assert!(help.contains("--platform"), "{sub}: {help}");
            assert!(!help.contains("--target"), "{sub}: {help}");
        }
    }
}
