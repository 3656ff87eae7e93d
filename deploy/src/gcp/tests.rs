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
    // With buckets: each `NUBES_BUCKET_<NAME>` is a string variable.
    std::fs::write(
        &path,
        generate(&bucket_app(), &options()).unwrap().service_yaml,
    )
    .unwrap();
    let check = "import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); \
                 env = {e['name']: e['value'] for e in d['spec']['template']['spec']['containers'][0]['env']}; \
                 assert env['NUBES_BUCKET_UPLOADS'] == 'my-project-uploads', env";
    let out = Command::new("python3")
        .args(["-c", check])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
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
    run_script_for(&echo_app(), existing)
}

/// [`run_script`] for `app`'s script.
fn run_script_for(app: &AppDescription, existing: bool) -> String {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("gcloud");
    let describe = if existing { "exit 0" } else { "exit 1" };
    std::fs::write(
        &fake,
        format!(
            r#"#!/usr/bin/env bash
echo "$*" >> "$GCLOUD_LOG"
case "$*" in
  *serviceAccountName*) echo "runner@demo.iam.gserviceaccount.com" ;;
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
    std::fs::write(&script, generate(app, &options()).unwrap().triggers_script).unwrap();
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

/// The pipeline's shape: `uploads` read+write+delete with its storage
/// trigger, `results` write only, `archive` read only.
fn bucket_app() -> AppDescription {
    use nubes_core::App;
    use nubes_core::bucket::Bucket;
    use nubes_core::resource::Access;
    async fn h(
        _: nubes_core::StorageEvent,
        _: nubes_core::Context,
    ) -> Result<(), nubes_core::BoxError> {
        Ok(())
    }
    App::new()
        .uses(&Bucket::new("uploads").allow(Access::ALL))
        .uses(&Bucket::new("results").allow(Access::WRITE))
        .uses(&Bucket::new("archive").allow(Access::READ))
        .on_storage("uploads", h)
        .describe()
}

const RUNNER: &str = "serviceAccount:runner@demo.iam.gserviceaccount.com";

/// The bindings of bucket `gs://{bucket}` the script made, role by role.
fn bucket_roles(calls: &str, bucket: &str) -> Vec<String> {
    let prefix =
        format!("storage buckets add-iam-policy-binding gs://{bucket} --member {RUNNER} --role ");
    calls
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .map(str::to_owned)
        .collect()
}

#[test]
fn buckets_are_created_and_granted_exactly_the_declared_access() {
    let calls = run_script_for(&bucket_app(), false);
    for bucket in [
        "my-project-uploads",
        "my-project-results",
        "my-project-archive",
    ] {
        let create = format!(
            "storage buckets create gs://{bucket} --project demo --location europe-west4 --uniform-bucket-level-access"
        );
        assert!(calls.contains(&create), "missing `{create}` in:\n{calls}");
    }
    assert_eq!(
        bucket_roles(&calls, "my-project-uploads"),
        [
            "roles/storage.objectViewer",
            "roles/storage.objectCreator",
            "projects/demo/roles/nubesObjectDeleter"
        ]
    );
    assert_eq!(
        bucket_roles(&calls, "my-project-results"),
        ["roles/storage.objectCreator"]
    );
    assert_eq!(
        bucket_roles(&calls, "my-project-archive"),
        ["roles/storage.objectViewer"]
    );
    // Delete is its own custom role, with that one permission.
    assert!(calls.contains(
        "iam roles create nubesObjectDeleter --project demo --title nubes object deleter --permissions storage.objects.delete"
    ), "{calls}");
    // Signing presigned URLs as itself, granted on the account only.
    assert!(calls.contains(&format!(
        "iam service-accounts add-iam-policy-binding runner@demo.iam.gserviceaccount.com --project demo --member {RUNNER} --role roles/iam.serviceAccountTokenCreator"
    )), "{calls}");
    // No project-wide storage grant at all.
    assert!(
        !calls
            .lines()
            .any(|l| l.starts_with("projects add-iam-policy-binding")
                && l.contains("roles/storage.")),
        "{calls}"
    );
    // The storage trigger filters on the bucket's cloud name.
    assert!(
        calls.contains("--event-filters bucket=my-project-uploads"),
        "{calls}"
    );

    // Run again with everything in place: nothing is created twice.
    let again = run_script_for(&bucket_app(), true);
    assert!(!again.contains("storage buckets create"), "{again}");
    assert!(!again.contains("iam roles create"), "{again}");
}

#[test]
fn an_app_that_only_reads_gets_no_write_or_delete_role() {
    use nubes_core::App;
    use nubes_core::bucket::Bucket;
    use nubes_core::resource::Access;
    let app = App::new()
        .uses(&Bucket::new("reports").allow(Access::READ))
        .describe();
    let m = generate(&app, &options()).unwrap();
    // The commands (the comments explain every role).
    let script: String = m
        .triggers_script
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        script.contains("--role \"roles/storage.objectViewer\""),
        "{script}"
    );
    for broader in [
        "objectCreator",
        "objectAdmin",
        "objectUser",
        "storage.admin",
        "nubesObjectDeleter",
        "storage.objects.delete",
    ] {
        assert!(
            !script.contains(broader),
            "`{broader}` granted to a read-only app:\n{script}"
        );
    }
    let calls = run_script_for(&app, false);
    assert_eq!(
        bucket_roles(&calls, "my-project-reports"),
        ["roles/storage.objectViewer"]
    );
}

#[test]
fn the_service_sets_each_buckets_cloud_name() {
    let m = generate(&bucket_app(), &options()).unwrap();
    for (var, value) in [
        ("NUBES_BUCKET_UPLOADS", "my-project-uploads"),
        ("NUBES_BUCKET_RESULTS", "my-project-results"),
        ("NUBES_BUCKET_ARCHIVE", "my-project-archive"),
    ] {
        let entry = format!("            - name: {var}\n              value: \"{value}\"\n");
        assert!(m.service_yaml.contains(&entry), "{}", m.service_yaml);
    }
    // An app without buckets: no bucket step, no variable.
    let none = generate(&echo_app(), &options()).unwrap();
    assert!(!none.triggers_script.contains("storage buckets"));
    assert!(!none.service_yaml.contains("NUBES_BUCKET_"));
    // The bucket step is valid bash, and names too long for GCS are refused.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("triggers.sh");
    std::fs::write(&path, &m.triggers_script).unwrap();
    let bash = Command::new("bash").arg("-n").arg(&path).output().unwrap();
    assert!(
        bash.status.success(),
        "{}",
        String::from_utf8_lossy(&bash.stderr)
    );
    let mut long = options();
    long.project = "p".repeat(60);
    let err = generate(&bucket_app(), &long).unwrap_err();
    assert!(err.to_string().contains("3 to 63 characters"), "{err}");
}
