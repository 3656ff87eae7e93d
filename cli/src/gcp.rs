//! Cloud Run artefacts: the binary, a `Dockerfile` that copies it into a
//! distroless image, `service.yaml` and `triggers.sh`.

use nubes_core::AppDescription;
use nubes_deploy::gcp::{self as manifest, ManifestOptions};

use crate::artefact::GeneratedFile;
use crate::error::CliError;

/// Cloud Run service names: lower-case letters, digits and `-`.
pub(crate) fn service_name(binary: &str) -> String {
    binary.to_ascii_lowercase().replace('_', "-")
}

pub(crate) fn manifests(
    app: &AppDescription,
    binary: &str,
) -> Result<Vec<GeneratedFile>, CliError> {
    let mut options = ManifestOptions::new(service_name(binary), binary);
    options.features = vec!["gcp".to_owned()];
    options.prebuilt = true;
    let m = manifest::generate(app, &options)?;
    Ok(m.files()
        .into_iter()
        .map(|(name, text)| GeneratedFile {
            path: name.into(),
            contents: text.as_bytes().to_vec(),
            executable: name.ends_with(".sh"),
        })
        .collect())
}
