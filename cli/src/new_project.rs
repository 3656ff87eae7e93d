//! `nubes new NAME`: a project from the template embedded in this binary.

use std::path::{Path, PathBuf};

use crate::args::NewArgs;
use crate::error::CliError;

const CARGO_TOML: &str = include_str!("../templates/app/Cargo.toml.tmpl");
const MAIN_RS: &str = include_str!("../templates/app/src/main.rs.tmpl");
const GITIGNORE: &str = include_str!("../templates/app/gitignore.tmpl");

/// Where this command was built from: the default nubes dependency.
fn own_checkout() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub(crate) fn run(args: &NewArgs) -> Result<(), CliError> {
    check_name(&args.name)?;
    let dir = PathBuf::from(&args.name);
    if dir.exists() {
        return Err(CliError::new(format!("`{}` already exists", dir.display()))
            .hint("choose another name or remove the folder"));
    }
    let dependency = nubes_dependency(args)?;
    let render = |template: &str| {
        template
            .replace("{{name}}", &args.name)
            .replace("{{nubes_dependency}}", &dependency)
    };
    let write = |path: &Path, text: String| {
        std::fs::write(path, text)
            .map_err(|e| CliError::new(format!("writing {}: {e}", path.display())))
    };
    std::fs::create_dir_all(dir.join("src"))
        .map_err(|e| CliError::new(format!("creating {}: {e}", dir.display())))?;
    write(&dir.join("Cargo.toml"), render(CARGO_TOML))?;
    write(&dir.join("src/main.rs"), render(MAIN_RS))?;
    write(&dir.join(".gitignore"), GITIGNORE.to_owned())?;
    eprintln!(
        "created {}: an HTTP route, a queue `jobs` and a schedule `hourly`",
        dir.display()
    );
    eprintln!("next: cd {} && nubes dev", dir.display());
    Ok(())
}

/// The value of the `nubes = { … }` dependency in the new Cargo.toml.
fn nubes_dependency(args: &NewArgs) -> Result<String, CliError> {
    if let Some(version) = &args.nubes_version {
        return Ok(format!("version = \"{version}\""));
    }
    let path = args.nubes_path.clone().unwrap_or_else(own_checkout);
    let path = std::fs::canonicalize(&path).map_err(|_| {
        CliError::new(format!("no nubes checkout at {}", path.display()))
            .hint("pass --nubes-path PATH to a nubes checkout, or --nubes-version VERSION")
    })?;
    if !path.join("core").join("Cargo.toml").is_file() {
        return Err(
            CliError::new(format!("{} is not a nubes checkout", path.display()))
                .hint("pass --nubes-path PATH to a nubes checkout, or --nubes-version VERSION"),
        );
    }
    let path = path.to_string_lossy().replace('\\', "/");
    Ok(format!("path = \"{path}\""))
}

/// Cargo's rules for package names, checked up front for a clear message.
fn check_name(name: &str) -> Result<(), CliError> {
    let ok = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !ok {
        return Err(
            CliError::new(format!("`{name}` is not a valid package name"))
                .hint("use letters, digits, `-` and `_`, starting with a letter"),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_cargo_rules() {
        assert!(check_name("my-app_2").is_ok());
        for bad in ["", "2app", "my app", "../x", "a/b"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn templates_render_without_leftover_placeholders() {
        let text = CARGO_TOML
            .replace("{{name}}", "x")
            .replace("{{nubes_dependency}}", "path = \"/n\"");
        assert!(!text.contains("{{"));
        assert!(MAIN_RS.replace("{{name}}", "x").contains("nubes::run(app)"));
    }
}
