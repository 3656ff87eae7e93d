//! The clouds `nubes build` and `nubes manifest` produce artefacts for.

use clap::ValueEnum;

/// A deployment target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Cloud {
    /// AWS Lambda: `bootstrap`, `bootstrap.zip` and a SAM `template.yaml`.
    Aws,
    /// Google Cloud Run: the binary, a `Dockerfile`, `service.yaml` and `triggers.sh`.
    Gcp,
    /// Azure Functions (custom handler): a function app folder and a zip.
    Azure,
}

impl Cloud {
    /// The cargo feature of the app that compiles this cloud's adapter in.
    pub(crate) fn feature(self) -> &'static str {
        match self {
            Cloud::Aws => "aws",
            Cloud::Gcp => "gcp",
            Cloud::Azure => "azure",
        }
    }
}

/// CPU architecture of the deployable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub(crate) enum Arch {
    /// x86-64 (the default).
    #[default]
    #[value(name = "x86_64")]
    X86_64,
    /// 64-bit ARM (AWS Graviton, Azure/GCP Arm instances).
    Arm64,
}

impl Arch {
    /// The architecture this `nubes` runs on.
    pub(crate) fn host() -> Arch {
        if cfg!(target_arch = "aarch64") {
            Arch::Arm64
        } else {
            Arch::X86_64
        }
    }

    /// The Rust target triple to build for `cloud`.
    pub(crate) fn triple(self, _cloud: Cloud) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64-unknown-linux-gnu",
            Arch::Arm64 => "aarch64-unknown-linux-gnu",
        }
    }
}
