//! Which platform the process runs on, and handing the app to its adapter.

use nubes_core::{App, Error, Provider};

/// Picks the platform from the environment (read through `lookup`):
/// `NUBES_PLATFORM` if set, else `AWS_LAMBDA_RUNTIME_API` → AWS,
/// `FUNCTIONS_CUSTOMHANDLER_PORT` → Azure, `K_SERVICE` → GCP, else local.
///
/// ```
/// use nubes::{detect_platform, Provider};
///
/// let env = |name: &str| (name == "K_SERVICE").then(|| "orders".to_string());
/// assert_eq!(detect_platform(env).unwrap(), Provider::Gcp);
/// assert_eq!(detect_platform(|_| None).unwrap(), Provider::Local);
/// ```
pub fn detect_platform(lookup: impl Fn(&str) -> Option<String>) -> Result<Provider, Error> {
    let set = |name: &str| lookup(name).is_some_and(|v| !v.trim().is_empty());
    if let Some(forced) = lookup("NUBES_PLATFORM").filter(|v| !v.trim().is_empty()) {
        return forced
            .parse()
            .map_err(|e: Error| Error::config(format!("NUBES_PLATFORM: {}", e.message())));
    }
    Ok(if set("AWS_LAMBDA_RUNTIME_API") {
        Provider::Aws
    } else if set("FUNCTIONS_CUSTOMHANDLER_PORT") {
        Provider::Azure
    } else if set("K_SERVICE") {
        Provider::Gcp
    } else {
        Provider::Local
    })
}

/// The clear error for a platform whose adapter is not compiled in.
fn not_compiled(provider: Provider) -> Error {
    let (feature, name) = match provider {
        Provider::Aws => ("aws", "AWS Lambda"),
        Provider::Gcp => ("gcp", "Google Cloud Run"),
        Provider::Azure => ("azure", "Azure Functions"),
        _ => ("local", "the local runner"),
    };
    Error::config(format!(
        "this process looks like it runs on {name}, but this binary was built without nubes' \
         `{feature}` feature; rebuild with `--features {feature}` (or `nubes = {{ features = [\"{feature}\"] }}`), \
         or set NUBES_PLATFORM to choose another platform"
    ))
}

pub(crate) async fn run_on(provider: Provider, app: App) -> Result<(), Error> {
    match provider {
        Provider::Local => run_local(app).await,
        #[cfg(feature = "aws")]
        Provider::Aws => nubes_aws::run(app).await,
        #[cfg(feature = "gcp")]
        Provider::Gcp => nubes_gcp::run(app).await,
        #[cfg(feature = "azure")]
        Provider::Azure => nubes_azure::run(app).await,
        other => Err(not_compiled(other)),
    }
}

#[cfg(feature = "local")]
async fn run_local(app: App) -> Result<(), Error> {
    nubes_local::run(app).await
}

#[cfg(not(feature = "local"))]
async fn run_local(_app: App) -> Result<(), Error> {
    Err(not_compiled(Provider::Local))
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
            Provider::Aws
        );
        assert_eq!(
            detect_platform(env(&[("FUNCTIONS_CUSTOMHANDLER_PORT", "7071")])).unwrap(),
            Provider::Azure
        );
        assert_eq!(
            detect_platform(env(&[("K_SERVICE", "svc")])).unwrap(),
            Provider::Gcp
        );
        assert_eq!(detect_platform(env(&[])).unwrap(), Provider::Local);
    }

    #[test]
    fn override_wins_and_is_validated() {
        let both = env(&[("AWS_LAMBDA_RUNTIME_API", "x"), ("NUBES_PLATFORM", "local")]);
        assert_eq!(detect_platform(both).unwrap(), Provider::Local);
        let err = detect_platform(env(&[("NUBES_PLATFORM", "mars")])).unwrap_err();
        assert!(err.to_string().contains("NUBES_PLATFORM"), "{err}");
    }

    #[test]
    fn missing_feature_names_the_feature() {
        let err = not_compiled(Provider::Azure);
        assert!(err.to_string().contains("--features azure"), "{err}");
    }

    #[cfg(not(feature = "aws"))]
    #[tokio::test]
    async fn detected_but_not_compiled_is_a_config_error() {
        let err = run_on(Provider::Aws, App::new()).await.unwrap_err();
        assert_eq!(err.kind(), nubes_core::ErrorKind::Config);
        assert!(err.to_string().contains("`aws` feature"), "{err}");
    }
}
