//! Fail closed: a build without the `push-auth` feature that is asked to
//! verify push tokens refuses to start instead of serving event paths open.
//! (Runs in builds without the feature: `cargo test -p nubes-gcp`; the
//! all-features build checks the same rule through `config.rs`' unit tests.)

#![cfg(not(feature = "push-auth"))]
#![allow(clippy::unwrap_used)]

mod common;

use common::{loopback, recording_app};
use nubes_core::ErrorKind;
use nubes_gcp::{GcpConfig, PushAuthConfig};

#[tokio::test]
async fn a_configured_verifier_is_refused_at_start() {
    let mut config = loopback();
    config.push_auth = Some(PushAuthConfig::new("https://svc.run.app", Vec::new()));
    let err = nubes_gcp::start(recording_app(&Default::default()), config)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(
        err.to_string()
            .contains("enable the `gcp-push-auth` feature of nubes"),
        "{err}"
    );
}

#[test]
fn every_push_auth_variable_is_refused_from_the_environment() {
    for name in [
        "NUBES_GCP_PUSH_AUDIENCE",
        "NUBES_GCP_PUSH_SERVICE_ACCOUNTS",
        "NUBES_GCP_JWKS_URL",
    ] {
        let err = GcpConfig::from_lookup(|n| (n == name).then(|| "x".to_owned())).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config, "{name}");
        let message = err.to_string();
        assert!(message.contains(&format!("{name} is set")), "{message}");
        assert!(message.contains("`gcp-push-auth` feature"), "{message}");
    }
}

#[tokio::test]
async fn without_push_auth_settings_the_server_starts() {
    let config = GcpConfig::from_lookup(|n| match n {
        "NUBES_HOST" => Some("127.0.0.1".to_owned()),
        "PORT" => Some("0".to_owned()),
        _ => None,
    })
    .unwrap();
    assert!(config.push_auth.is_none());
    let server = nubes_gcp::start(recording_app(&Default::default()), config)
        .await
        .unwrap();
    server.shutdown().await.unwrap();
}
