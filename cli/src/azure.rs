//! Azure Functions artefacts: the function app folder and its zip.

use nubes_core::AppDescription;
use nubes_deploy::azure::{self as manifest, ManifestOptions};

use crate::artefact::GeneratedFile;
use crate::error::CliError;

/// `host.json`, `local.settings.json` and one `function.json` per function,
/// for an app whose handler executable is named `executable`.
pub(crate) fn manifests(
    app: &AppDescription,
    executable: &str,
) -> Result<Vec<GeneratedFile>, CliError> {
    let mut options = ManifestOptions::default();
    options.executable = executable.to_owned();
    let files = manifest::generate(app, &options)?;
    files
        .into_iter()
        .map(|f| {
            let mut text = serde_json::to_string_pretty(&f.contents)
                .map_err(|e| CliError::new(format!("rendering {}: {e}", f.path.display())))?;
            text.push('\n');
            Ok(GeneratedFile::text(f.path, text))
        })
        .collect()
}

/// The files of the zip deploy package: everything but `local.settings.json`
/// (local development settings never go to Azure).
pub(crate) fn zip_entries(files: &[GeneratedFile]) -> Vec<&GeneratedFile> {
    files
        .iter()
        .filter(|f| f.path.as_os_str() != "local.settings.json")
        .collect()
}
