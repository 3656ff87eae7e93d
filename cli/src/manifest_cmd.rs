//! `nubes manifest --platform PLATFORM`: print the manifests, build nothing else.

use crate::args::ManifestArgs;
use crate::cargo;
use crate::error::CliError;
use crate::platform::{Arch, Platform};
use crate::{aws, azure, gcp};

pub(crate) async fn run(args: &ManifestArgs) -> Result<(), CliError> {
    let package = args.package.clone();
    let platform = args.platform;
    tokio::task::spawn_blocking(move || {
        let (binary, description) =
            cargo::describe_package(package.as_deref(), platform.feature())?;
        let files = match platform {
            Platform::Aws => aws::manifests(&description, Arch::default())?,
            Platform::Gcp => gcp::manifests(&description, &binary.name)?,
            Platform::Azure => azure::manifests(&description, &binary.name)?,
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
