//! The platforms `nubes build` and `nubes manifest` produce artefacts for.
//! (`--platform`, not `--target`: to cargo a target is a triple, which
//! `--arch` chooses.)

use clap::ValueEnum;

/// A platform to deploy to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Platform {
    /// AWS Lambda: `bootstrap`, `bootstrap.zip` and a SAM `template.yaml`.
    Aws,
    /// Google Cloud Run: the binary, a `Dockerfile`, `service.yaml` and `triggers.sh`.
    Gcp,
    /// Azure Functions (custom handler): a function app folder and a zip.
    Azure,
}

impl Platform {
    /// The cargo feature of the app that compiles this platform's adapter in.
    pub(crate) fn feature(self) -> &'static str {
        match self {
            Platform::Aws => "aws",
            Platform::Gcp => "gcp",
            Platform::Azure => "azure",
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

    /// The Rust target triple of this architecture (Linux, glibc: what every
    /// platform runs).
    pub(crate) fn triple(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64-unknown-linux-gnu",
            Arch::Arm64 => "aarch64-unknown-linux-gnu",
        }
    }
}
