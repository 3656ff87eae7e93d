//! Which platform the process runs on, and handing the app to its adapter.

use nubes_core::{App, Error, Platform};

/// Picks the platform from the environment (read through `lookup`):
/// `NUBES_PLATFORM` if set, else `AWS_LAMBDA_RUNTIME_API` → AWS,
/// `FUNCTIONS_CUSTOMHANDLER_PORT` → Azure, `K_SERVICE` → GCP, else local.
///
/// ```
/// use nubes::{detect_platform, Platform};
///
/// let env = |name: &str| (name == "K_SERVICE").then(|| "orders".to_string());
/// assert_eq!(detect_platform(env).unwrap(), Platform::Gcp);
/// assert_eq!(detect_platform(|_| None).unwrap(), Platform::Local);
/// ```
pub fn detect_platform(lookup: impl Fn(&str) -> Option<String>) -> Result<Platform, Error> {
    let set = |name: &str| lookup(name).is_some_and(|v| !v.trim().is_empty());
    if let Some(forced) = lookup("NUBES_PLATFORM").filter(|v| !v.trim().is_empty()) {
        return forced
            .parse()
            .map_err(|e: Error| Error::config(format!("NUBES_PLATFORM: {}", e.message())));
    }
    Ok(if set("AWS_LAMBDA_RUNTIME_API") {
        Platform::Aws
    } else if set("FUNCTIONS_CUSTOMHANDLER_PORT") {
        Platform::Azure
    } else if set("K_SERVICE") {
        Platform::Gcp
    } else {
        Platform::Local
    })
}

/// The clear error for a platform whose adapter is not compiled in.
fn not_compiled(platform: Platform) -> Error {
    let (feature, name) = match platform {
        Platform::Aws => ("aws", "AWS Lambda"),
        Platform::Gcp => ("gcp", "Google Cloud Run"),
        Platform::Azure => ("azure", "Azure Functions"),
        _ => ("local", "the local runner"),
    };
    Error::config(format!(
        "this process looks like it runs on {name}, but this binary was built without nubes' \
         `{feature}` feature; rebuild with `--features {feature}` (or `nubes = {{ features = [\"{feature}\"] }}`), \
         or set NUBES_PLATFORM to choose another platform"
    ))
}

pub(crate) async fn run_on(platform: Platform, app: App) -> Result<(), Error> {
    match platform {
        Platform::Local => run_local(app).await,
        #[cfg(feature = "aws")]
        Platform::Aws => nubes_aws::run(app).await,
        #[cfg(feature = "gcp")]
        Platform::Gcp => nubes_gcp::run(app).await,
        #[cfg(feature = "azure")]
        Platform::Azure => nubes_azure::run(app).await,
        other => Err(not_compiled(other)),
    }
}

#[cfg(feature = "local")]
async fn run_local(app: App) -> Result<(), Error> {
    nubes_local::run(app).await
}

#[cfg(not(feature = "local"))]
async fn run_local(_app: App) -> Result<(), Error> {
    Err(not_compiled(Platform::Local))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn environment_picks_the_platform() {
        assert_eq!(
            detect_platform(env(&[("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")])).unwrap(),
            Platform::Aws
        );
        assert_eq!(
            detect_platform(env(&[("FUNCTIONS_CUSTOMHANDLER_PORT", "7071")])).unwrap(),
            Platform::Azure
        );
        assert_eq!(
            detect_platform(env(&[("K_SERVICE", "svc")])).unwrap(),
            Platform::Gcp
        );
        assert_eq!(detect_platform(env(&[])).unwrap(), Platform::Local);
    }

    #[test]
    fn override_wins_and_is_validated() {
        let both = env(&[("AWS_LAMBDA_RUNTIME_API", "x"), ("NUBES_PLATFORM", "local")]);
        assert_eq!(detect_platform(both).unwrap(), Platform::Local);
        let err = detect_platform(env(&[("NUBES_PLATFORM", "mars")])).unwrap_err();
        assert!(err.to_string().contains("NUBES_PLATFORM"), "{err}");
    }

    #[test]
    fn missing_feature_names_the_feature() {
        let err = not_compiled(Platform::Azure);
        assert!(err.to_string().contains("--features azure"), "{err}");
    }

    #[cfg(not(feature = "aws"))]
    #[tokio::test]
    async fn detected_but_not_compiled_is_a_config_error() {
        let err = run_on(Platform::Aws, App::new()).await.unwrap_err();
        assert_eq!(err.kind(), nubes_core::ErrorKind::Config);
        assert!(err.to_string().contains("`aws` feature"), "{err}");
    }
}
