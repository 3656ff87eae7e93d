//! `nubes`: from one handler to per-provider deployables.
//!
//! - `nubes new NAME`: a new project from the embedded template;
//! - `nubes dev`: the app on the local runner, rebuilt and restarted on change;
//! - `nubes invoke TRIGGER`: send an event to a running app.

mod args;
mod cargo;
mod dev;
mod error;
mod invoke;
mod new_project;
mod progress;

use clap::Parser as _;

use crate::args::{Cli, Command};
use crate::error::CliError;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result: Result<(), CliError> = match cli.command {
        Command::New(args) => new_project::run(&args),
        Command::Dev(args) => dev::run(&args).await,
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
