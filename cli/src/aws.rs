//! AWS Lambda artefacts: `bootstrap`, `bootstrap.zip`, `template.yaml`.

use nubes_core::AppDescription;
use nubes_deploy::aws::{Architecture, SamOptions, sam_template};

use crate::artefact::GeneratedFile;
use crate::error::CliError;
use crate::platform::Arch;

/// The SAM template, deploying `bootstrap.zip` from the same folder. (JSON is
/// YAML, and SAM reads either.)
pub(crate) fn manifests(app: &AppDescription, arch: Arch) -> Result<Vec<GeneratedFile>, CliError> {
    let mut options = SamOptions::default();
    options.code_uri = "bootstrap.zip".to_owned();
    options.architecture = match arch {
        Arch::X86_64 => Architecture::X86_64,
        Arch::Arm64 => Architecture::Arm64,
    };
    let template = sam_template(app, &options)?;
    let mut text = serde_json::to_string_pretty(&template)
        .map_err(|e| CliError::new(format!("rendering the SAM template: {e}")))?;
    text.push('\n');
    Ok(vec![GeneratedFile::text("template.yaml", text)])
}

/// The glibc of `provided.al2023`. A binary that needs a newer one fails to
/// start on Lambda with a loader error, so the build checks it beforehand.
pub(crate) const LAMBDA_GLIBC: (u32, u32) = (2, 34);

/// The newest `GLIBC_x.y` symbol version `binary` refers to, if any.
pub(crate) fn required_glibc(binary: &[u8]) -> Option<(u32, u32)> {
    let needle = b"GLIBC_";
    let mut best = None;
    let mut i = 0;
    while let Some(pos) = binary[i..].windows(needle.len()).position(|w| w == needle) {
        let start = i + pos + needle.len();
        let digits: Vec<u8> = binary[start..]
            .iter()
            .take_while(|b| b.is_ascii_digit() || **b == b'.')
            .copied()
            .collect();
        let text = String::from_utf8_lossy(&digits);
        let mut parts = text.split('.').filter_map(|p| p.parse::<u32>().ok());
        if let (Some(major), Some(minor)) = (parts.next(), parts.next()) {
            best = best.max(Some((major, minor)));
        }
        i = start;
    }
    best
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_the_newest_glibc_version() {
        let bytes = b"\0GLIBC_2.2.5\0GLIBC_2.34\0GLIBC_2.17\0GLIBC_PRIVATE\0";
        assert_eq!(super::required_glibc(bytes), Some((2, 34)));
        assert_eq!(super::required_glibc(b"static binary"), None);
    }
}
