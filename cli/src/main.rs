//! `nubes`: from one handler to per-platform deployables.
//!
//! - `nubes new NAME`: a new project from the embedded template;
//! - `nubes dev`: the app on the local runner, rebuilt and restarted on change;
//! - `nubes build --platform PLATFORM`: deployable artefacts and manifests;
//! - `nubes manifest --platform PLATFORM`: the manifests alone;
//! - `nubes invoke TRIGGER`: send an event to a running app.

mod args;
mod artefact;
mod aws;
mod azure;
mod build;
mod cargo;
mod dev;
mod error;
mod gcp;
mod invoke;
mod invoke_cloud;
mod manifest_cmd;
mod new_project;
mod platform;
mod progress;
mod toolchain;
mod wire;

use clap::Parser as _;

use crate::args::{Cli, Command};
use crate::error::CliError;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result: Result<(), CliError> = match cli.command {
        Command::New(args) => new_project::run(&args),
        Command::Dev(args) => dev::run(&args).await,
        Command::Build(args) => build::run(&args).await,
        Command::Manifest(args) => manifest_cmd::run(&args).await,
        Command::Invoke(args) => invoke::run(&args).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{err}");
            std::process::ExitCode::FAILURE
        }
    }
}
