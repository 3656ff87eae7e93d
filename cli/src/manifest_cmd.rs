//! `nubes manifest --target CLOUD`: print the manifests, build nothing else.

use crate::args::ManifestArgs;
use crate::cargo;
use crate::error::CliError;
use crate::target::Arch;
use crate::target::Cloud;
use crate::{aws, azure, gcp};

pub(crate) async fn run(args: &ManifestArgs) -> Result<(), CliError> {
    let package = args.package.clone();
    let target = args.target;
    tokio::task::spawn_blocking(move || {
        let (binary, description) = cargo::describe_package(package.as_deref(), target.feature())?;
        let files = match target {
            Cloud::Aws => aws::manifests(&description, Arch::default())?,
            Cloud::Gcp => gcp::manifests(&description, &binary.name)?,
            Cloud::Azure => azure::manifests(&description, &binary.name)?,
        };
        for file in files {
            println!("==> {} <==", file.path.display());
            println!("{}", String::from_utf8_lossy(&file.contents).trim_end());
        }
        Ok(())
    })
    .await
    .map_err(|e| CliError::new(format!("manifest task failed: {e}")))?
}
