//! `nubes build --platform PLATFORM`: a size-optimised release build with the
//! platform's feature, then the deployable artefacts under
//! `<target-dir>/nubes/<platform>/<app>/`.

use std::path::PathBuf;

use crate::args::BuildArgs;
use crate::artefact::{self, GeneratedFile};
use crate::cargo::{self, BuildRequest};
use crate::error::CliError;
use crate::platform::{Arch, Platform};
use crate::progress::Step;
use crate::{aws, azure, gcp, toolchain};

/// The size profile, defined on the command line so apps need no setup:
/// small and fast to cold-start, and unwinding so a handler panic is reported
/// as that event's failure instead of killing the process.
const SIZE_PROFILE: [&str; 7] = [
    "profile.nubes.inherits=\"release\"",
    "profile.nubes.opt-level=\"z\"",
    "profile.nubes.lto=true",
    "profile.nubes.codegen-units=1",
    "profile.nubes.strip=true",
    "profile.nubes.panic=\"unwind\"",
    "profile.nubes.debug=false",
];

pub(crate) async fn run(args: &BuildArgs) -> Result<(), CliError> {
    let args = BuildArgs { ..args.clone() };
    tokio::task::spawn_blocking(move || build(&args))
        .await
        .map_err(|e| CliError::new(format!("build task failed: {e}")))?
}

fn build(args: &BuildArgs) -> Result<(), CliError> {
    let triple = args.arch.triple();
    let mut config: Vec<String> = Vec::new();
    if !args.debug {
        config.extend(SIZE_PROFILE.iter().map(|s| (*s).to_owned()));
    }
    config.extend(toolchain::check(triple)?);
    let request = BuildRequest {
        package: args.package.as_deref(),
        features: vec![args.platform.feature().to_owned()],
        no_default_features: true,
        profile: Some(if args.debug { "dev" } else { "nubes" }),
        target: Some(triple),
        config,
    };
    let step = Step::start(format!(
        "building for {} ({triple})",
        args.platform.feature()
    ));
    let binary = cargo::build_binary(&request)?;
    step.done(format!("built {}", binary.path.display()));

    let description = if args.arch == Arch::host() {
        cargo::describe(&binary.path)?
    } else {
        // The cross-compiled binary cannot run here: describe a host build.
        cargo::describe_package(args.package.as_deref(), args.platform.feature())?.1
    };

    let out_dir = cargo::target_dir()?
        .join("nubes")
        .join(args.platform.feature())
        .join(&binary.name);
    if out_dir.exists() {
        std::fs::remove_dir_all(&out_dir)
            .map_err(|e| CliError::new(format!("clearing {}: {e}", out_dir.display())))?;
    }
    let exe = std::fs::read(&binary.path)
        .map_err(|e| CliError::new(format!("reading {}: {e}", binary.path.display())))?;
    let step = Step::start("writing artefacts");
    let written = match args.platform {
        Platform::Aws => {
            check_lambda_glibc(&exe);
            let bootstrap = GeneratedFile {
                path: PathBuf::from("bootstrap"),
                contents: exe,
                executable: true,
            };
            let mut files = aws::manifests(&description, args.arch)?;
            artefact::zip(
                &out_dir_create(&out_dir)?.join("bootstrap.zip"),
                &[&bootstrap],
            )?;
            files.push(bootstrap);
            artefact::write_all(&out_dir, &files)?;
            files.len() + 1
        }
        Platform::Gcp => {
            let mut files = gcp::manifests(&description, &binary.name)?;
            files.push(GeneratedFile {
                path: PathBuf::from(&binary.name),
                contents: exe,
                executable: true,
            });
            artefact::write_all(&out_dir, &files)?;
            files.len()
        }
        Platform::Azure => {
            let mut files = azure::manifests(&description, &binary.name)?;
            files.push(GeneratedFile {
                path: PathBuf::from(&binary.name),
                contents: exe,
                executable: true,
            });
            artefact::write_all(&out_dir, &files)?;
            let zip_path = out_dir.join(format!("{}.zip", binary.name));
            artefact::zip(&zip_path, &azure::zip_entries(&files))?;
            files.len() + 1
        }
    };
    step.done(format!("{written} files in {}", out_dir.display()));
    println!("{}", out_dir.display());
    Ok(())
}

fn out_dir_create(dir: &std::path::Path) -> Result<&std::path::Path, CliError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| CliError::new(format!("creating {}: {e}", dir.display())))?;
    Ok(dir)
}

/// Warns when the binary needs a newer glibc than Lambda's `provided.al2023`.
fn check_lambda_glibc(exe: &[u8]) {
    if let Some(needed) = aws::required_glibc(exe)
        && needed > aws::LAMBDA_GLIBC
    {
        let (major, minor) = needed;
        let (lmajor, lminor) = aws::LAMBDA_GLIBC;
        eprintln!(
            "warning: this binary needs glibc {major}.{minor}, but provided.al2023 has {lmajor}.{lminor}: \
             it will not start on Lambda. Build on an older system, or with `cargo lambda build` (zig pins the glibc version)."
        );
    }
}
