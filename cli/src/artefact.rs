//! Generated files, and writing them (plus zips) into the output folder.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::error::CliError;

/// One file of a deployable: a path relative to the output folder.
#[derive(Debug, Clone)]
pub(crate) struct GeneratedFile {
    pub(crate) path: PathBuf,
    pub(crate) contents: Vec<u8>,
    pub(crate) executable: bool,
}

impl GeneratedFile {
    pub(crate) fn text(path: impl Into<PathBuf>, contents: impl Into<String>) -> Self {
        GeneratedFile {
            path: path.into(),
            contents: contents.into().into_bytes(),
            executable: false,
        }
    }
}

/// Writes `files` under `dir`, creating folders; executables get mode 755.
pub(crate) fn write_all(dir: &Path, files: &[GeneratedFile]) -> Result<(), CliError> {
    for file in files {
        let path = dir.join(&file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| CliError::new(format!("creating {}: {e}", parent.display())))?;
        }
        std::fs::write(&path, &file.contents)
            .map_err(|e| CliError::new(format!("writing {}: {e}", path.display())))?;
        #[cfg(unix)]
        if file.executable {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                .map_err(|e| CliError::new(format!("making {} executable: {e}", path.display())))?;
        }
    }
    Ok(())
}

/// Zips `files` (paths inside the zip as given, `/`-separated) into `zip_path`.
pub(crate) fn zip(zip_path: &Path, files: &[&GeneratedFile]) -> Result<(), CliError> {
    let fail =
        |e: &dyn std::fmt::Display| CliError::new(format!("writing {}: {e}", zip_path.display()));
    let file = std::fs::File::create(zip_path).map_err(|e| fail(&e))?;
    let mut zip = zip::ZipWriter::new(file);
    for f in files {
        let mode = if f.executable { 0o755 } else { 0o644 };
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(mode);
        let name = f
            .path
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        zip.start_file(name, options).map_err(|e| fail(&e))?;
        zip.write_all(&f.contents).map_err(|e| fail(&e))?;
    }
    zip.finish().map_err(|e| fail(&e))?;
    Ok(())
}
