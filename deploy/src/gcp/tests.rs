#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use super::*;
use nubes_core::TriggerDescription;

fn echo_app() -> AppDescription {
    let t = |kind, name: &str, schedule: Option<&str>| TriggerDescription {
        kind,
        name: name.to_owned(),
        schedule: schedule.map(str::to_owned),
    };
    AppDescription {
        resources: Vec::new(),
        http: true,
        triggers: vec![
            t(TriggerKind::Queue, "orders", None),
            t(TriggerKind::Storage, "uploads", None),
            t(TriggerKind::Schedule, "nightly", Some("0 3 * * *")),
        ],
    }
}

fn options() -> ManifestOptions {
    let mut o = ManifestOptions::new("echo", "echo");
    o.features = vec!["gcp".into(), "nubes/gcp-push-auth".into()];
    o.push_auth = true;
    o
}

/// A binary without `gcp-push-auth` would refuse to start with the push-auth
/// variables: by default the script leaves them unset and says how to set them.
#[test]
fn push_auth_variables_are_set_only_for_a_binary_that_verifies() {
    let set = r#"--update-env-vars "NUBES_GCP_PUSH_AUDIENCE=$URL"#;
    let on = generate(&echo_app(), &options()).unwrap().triggers_script;
    let line = on.lines().find(|l| l.contains(set)).unwrap();
    assert!(line.starts_with("  --update-env-vars"), "{line}");
    assert!(on.contains("must be built with nubes' `gcp-push-auth`"));
    let mut default = ManifestOptions::new("echo", "echo");
    default.features = vec!["gcp".into()];
    let off = generate(&echo_app(), &default).unwrap().triggers_script;
    let line = off.lines().find(|l| l.contains(set)).unwrap();
    assert!(line.starts_with("#"), "only as a comment: {line}");
    assert!(off.contains("--no-allow-unauthenticated"));
    assert!(
        off.lines()
            .filter(|l| !l.starts_with('#'))
            .all(|l| !l.contains("NUBES_GCP_PUSH")),
        "{off}"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("triggers.sh");
    std::fs::write(&path, &off).unwrap();
    let bash = Command::new("bash").arg("-n").arg(&path).output().unwrap();
    assert!(
        bash.status.success(),
        "{}",
        String::from_utf8_lossy(&bash.stderr)
    );
    // The subscriptions, triggers and jobs still sign their calls as INVOKER.
    assert!(
        off.contains(r#"--push-auth-service-account "$INVOKER" --push-auth-token-audience "$URL""#)
    );
    assert!(
        off.contains(r#"--oidc-service-account-email "$INVOKER" --oidc-token-audience "$URL""#)
    );
}

#[test]
fn every_trigger_is_wired_to_its_reserved_path() {
    let m = generate(&echo_app(), &options()).unwrap();
    let s = &m.triggers_script;
    assert!(
        s.contains(r#"--push-endpoint "$URL/_nubes/queues/orders""#),
        "{s}"
    );
    assert!(
        s.contains(r#"--push-auth-service-account "$INVOKER" --push-auth-token-audience "$URL""#)
    );
    assert!(s.contains(r#"--destination-run-path "/_nubes/storage/uploads""#));
    assert!(s.contains("type=google.cloud.storage.object.v1.finalized"));
    assert!(s.contains("type=google.cloud.storage.object.v1.deleted"));
    assert!(s.contains(r#"--uri "$URL/_nubes/schedules/nightly""#));
    assert!(s.contains("--schedule '0 3 * * *' --time-zone \"Etc/UTC\""));
    assert!(s.contains("NUBES_GCP_PUSH_AUDIENCE=$URL,NUBES_GCP_PUSH_SERVICE_ACCOUNTS=$INVOKER"));
    assert!(
        m.dockerfile
            .contains("cargo build --release --locked --bin echo --features gcp")
    );
    assert!(m.service_yaml.contains("name: echo"));
    assert_eq!(
        m.files().map(|(name, _)| name),
        ["service.yaml", "Dockerfile", "triggers.sh"]
    );
}

#[test]
fn a_prebuilt_binary_is_copied_not_compiled() {
    let app = AppDescription {
        resources: Vec::new(),
        http: true,
        triggers: vec![],
    };
    let mut options = ManifestOptions::new("echo", "echo");
    options.prebuilt = true;
    let m = generate(&app, &options).unwrap();
    assert!(m.dockerfile.contains("COPY echo /app"), "{}", m.dockerfile);
    assert!(!m.dockerfile.contains("cargo build"));
    assert!(
        m.dockerfile
            .contains("FROM gcr.io/distroless/cc-debian12:nonroot")
    );
}

#[test]
fn the_script_is_valid_bash() {
    let dir = tempfile::tempdir().unwrap();
    let m = generate(&echo_app(), &options()).unwrap();
    let path = dir.path().join("triggers.sh");
    std::fs::write(&path, &m.triggers_script).unwrap();
    let bash = Command::new("bash").arg("-n").arg(&path).output().unwrap();
    assert!(
        bash.status.success(),
        "{}",
        String::from_utf8_lossy(&bash.stderr)
    );
}

#[test]
#[ignore = "needs python3 with PyYAML: .ci/install-gcp.sh"]
fn the_service_yaml_parses() {
    let install = "run .ci/install-gcp.sh (pip install pyyaml)";
    nubes_test_support::tool::require_tool("python3", &["-c", "import yaml"], install);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("service.yaml");
    std::fs::write(
        &path,
        generate(&echo_app(), &options()).unwrap().service_yaml,
    )
    .unwrap();
    let check = "import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); \
                 c = d['spec']['template']['spec']['containers'][0]; \
                 assert d['kind'] == 'Service' and c['ports'][0]['containerPort'] == 8080, d";
    let out = Command::new("python3")
        .args(["-c", check])
        .arg(&path)
        .output()
        .expect("python3 runs: install Python 3 and PyYAML (.ci/install-gcp.sh)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("No module named 'yaml'"),
        "PyYAML is missing: pip install pyyaml (.ci/install-gcp.sh)"
    );
    assert!(out.status.success(), "{stderr}");
}

#[test]
fn names_and_schedules_google_cannot_take_are_refused() {
    let mut app = echo_app();
    app.triggers[0].name = "q1".into();
    let err = generate(&app, &options()).unwrap_err();
    assert!(err.to_string().contains("at least 3"), "{err}");

    let mut app = echo_app();
    app.triggers[2].schedule = Some("30 0 3 * * *".into());
    let err = generate(&app, &options()).unwrap_err();
    assert!(err.to_string().contains("minute granularity"), "{err}");
    app.triggers[2].schedule = Some("0 */5 3 * * MON".into());
    let m = generate(&app, &options()).unwrap();
    assert!(m.triggers_script.contains("'*/5 3 * * MON'"));

    let err = generate(&echo_app(), &ManifestOptions::new("Echo", "echo")).unwrap_err();
    assert!(err.to_string().contains("service name"), "{err}");
}

/// Runs `triggers.sh` with a stand-in `gcloud` that records its arguments,
/// answers the service URL and the project number, and reports every
/// resource as missing (or, with `existing`, as already there); returns the
/// recorded calls, one per line.
fn run_script(existing: bool) -> String {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("gcloud");
    let describe = if existing { "exit 0" } else { "exit 1" };
    std::fs::write(
        &fake,
        format!(
            r#"#!/usr/bin/env bash
echo "$*" >> "$GCLOUD_LOG"
case "$*" in
  "run services describe"*) echo "https://echo-xyz-ew.a.run.app" ;;
  "projects describe"*) echo "123456789" ;;
  "storage service-agent"*) echo "service-1@gs-project-accounts.iam.gserviceaccount.com" ;;
  *" describe "*) {describe} ;;
esac
"#
        ),
    )
    .unwrap();
    let chmod = Command::new("chmod").arg("+x").arg(&fake).status().unwrap();
    assert!(chmod.success());
    let script = dir.path().join("triggers.sh");
    std::fs::write(
        &script,
        generate(&echo_app(), &options()).unwrap().triggers_script,
    )
    .unwrap();
    let log = dir.path().join("gcloud.log");
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .arg(&script)
        .env("PATH", path)
        .env("GCLOUD_LOG", &log)
        .env("PROJECT", "demo")
        .env("REGION", "europe-west4")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(&log).unwrap()
}

const AGENT: &str = "serviceAccount:service-123456789@gcp-sa-pubsub.iam.gserviceaccount.com";

#[test]
fn the_script_runs_and_creates_every_resource() {
    let calls = run_script(false);
    let url = "https://echo-xyz-ew.a.run.app";
    let invoker = "nubes-invoker@demo.iam.gserviceaccount.com";
    for expected in [
        "iam service-accounts create nubes-invoker --project demo".to_owned(),
        format!("run services update echo --project demo --region europe-west4 --update-env-vars NUBES_GCP_PUSH_AUDIENCE={url},NUBES_GCP_PUSH_SERVICE_ACCOUNTS={invoker}"),
        "pubsub topics create orders --project demo".to_owned(),
        format!("pubsub subscriptions create orders --project demo --topic orders --push-endpoint {url}/_nubes/queues/orders --push-auth-service-account {invoker} --push-auth-token-audience {url}"),
        "eventarc triggers create uploads-finalized --project demo --location europe-west4".to_owned(),
        "--destination-run-path /_nubes/storage/uploads --event-filters type=google.cloud.storage.object.v1.deleted --event-filters bucket=uploads".to_owned(),
        format!("scheduler jobs create http nightly --project demo --location europe-west4 --schedule 0 3 * * * --time-zone Etc/UTC --uri {url}/_nubes/schedules/nightly --http-method POST --oidc-service-account-email {invoker} --oidc-token-audience {url}"),
    ] {
        assert!(calls.contains(&expected), "missing `{expected}` in:\n{calls}");
    }
}

/// Issue #23: a message that always fails is dead-lettered after 5 attempts
/// (as on SQS and Azure), not dropped when Pub/Sub's retention ends.
#[test]
fn every_queue_gets_a_dead_letter_topic_after_five_attempts() {
    let calls = run_script(false);
    let lines: Vec<&str> = calls.lines().collect();
    let position = |call: &str| {
        lines
            .iter()
            .position(|l| *l == call || l.starts_with(&format!("{call} ")))
            .unwrap_or_else(|| panic!("missing `{call}` in:\n{calls}"))
    };
    let number = position("projects describe demo --format value(projectNumber)");
    let dlq_topic = position("pubsub topics create orders-dlq --project demo");
    let dlq_sub = position(
        "pubsub subscriptions create orders-dlq --project demo --topic orders-dlq \
         --message-retention-duration 7d --expiration-period never",
    );
    let sub = position("pubsub subscriptions create orders --project demo --topic orders");
    assert!(
        lines[sub].ends_with(
            "--ack-deadline 60 --min-retry-delay 10s --max-retry-delay 600s \
             --dead-letter-topic orders-dlq --max-delivery-attempts 5"
        ),
        "{}",
        lines[sub]
    );
    let publisher = position(&format!(
        "pubsub topics add-iam-policy-binding orders-dlq --project demo --member {AGENT} \
         --role roles/pubsub.publisher"
    ));
    let subscriber = position(&format!(
        "pubsub subscriptions add-iam-policy-binding orders --project demo --member {AGENT} \
         --role roles/pubsub.subscriber"
    ));
    // The agent is known before it is granted anything, and the grants name
    // resources that exist by then.
    assert!(number < dlq_topic && dlq_topic < dlq_sub && dlq_sub < sub);
    assert!(sub < publisher && sub < subscriber);
    assert!(!calls.contains("subscriptions update"), "{calls}");
}

/// Run again over resources made before dead-lettering existed: the
/// subscription is updated, nothing is created twice.
#[test]
fn a_rerun_adds_dead_lettering_to_existing_subscriptions() {
    let calls = run_script(true);
    assert!(
        calls.lines().any(|l| l
            == "pubsub subscriptions update orders --project demo \
                --dead-letter-topic orders-dlq --max-delivery-attempts 5"),
        "{calls}"
    );
    assert!(!calls.contains(" create "), "{calls}");
    assert!(
        calls.contains("pubsub subscriptions add-iam-policy-binding orders"),
        "{calls}"
    );
}

#[test]
fn delivery_attempts_are_within_what_pubsub_accepts() {
    for (attempts, ok) in [(4, false), (5, true), (100, true), (101, false)] {
        let mut o = options();
        o.max_delivery_attempts = attempts;
        let result = generate(&echo_app(), &o);
        assert_eq!(result.is_ok(), ok, "{attempts}");
        if ok {
            let script = result.unwrap().triggers_script;
            assert!(script.contains(&format!("--max-delivery-attempts {attempts}")));
        }
    }
    // No queue, no project number lookup and no Pub/Sub agent.
    let mut app = echo_app();
    app.triggers.retain(|t| t.kind != TriggerKind::Queue);
    let script = generate(&app, &options()).unwrap().triggers_script;
    assert!(!script.contains("PUBSUB_AGENT"), "{script}");
}
