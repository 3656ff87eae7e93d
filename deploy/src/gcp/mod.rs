//! Google Cloud deployment files generated from an app's description
//! (served by `nubes-gcp`): a Cloud Run service YAML, a Dockerfile for the
//! binary, and a reviewed `gcloud` script that wires every trigger to its
//! reserved path (Pub/Sub push subscriptions with OIDC to
//! `/_nubes/queues/{name}`, each with a dead-letter topic; Eventarc Cloud
//! Storage triggers to `/_nubes/storage/{name}`; Cloud Scheduler jobs to
//! `/_nubes/schedules/{name}`), which also creates the declared buckets and
//! grants the service exactly their declared access (see `buckets`).
//!
//! ```
//! use nubes_core::{App, BoxError, Context, QueueMessage};
//! use nubes_deploy::gcp::{ManifestOptions, generate};
//!
//! async fn h(_: QueueMessage, _: Context) -> Result<(), BoxError> { Ok(()) }
//!
//! let app = App::new().on_queue("orders", h);
//! let files = generate(&app.describe(), &ManifestOptions::new("shop", "shop-bin")).unwrap();
//! assert!(files.triggers_script.contains("/_nubes/queues/orders"));
//! assert!(files.service_yaml.contains("kind: Service"));
//! ```

mod buckets;
mod dockerfile;
mod service;
mod triggers;

use nubes_core::{AppDescription, Error, StorageAction, TriggerDescription, TriggerKind};

use crate::schedule;

/// What the generator needs beyond the app itself.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ManifestOptions {
    /// The Cloud Run service name (lower-case letters, digits, `-`).
    pub service: String,
    /// The binary the Dockerfile builds (`cargo build --bin …`).
    pub binary: String,
    /// Extra cargo features for the build (for instance `gcp` for a crate that
    /// forwards nubes' features); empty for none.
    pub features: Vec<String>,
    /// The container image; `${IMAGE}` leaves it to the deploy command.
    pub image: String,
    /// The Rust image the Dockerfile builds with.
    pub rust_image: String,
    /// Default project for the script (`$PROJECT` overrides it when run).
    pub project: String,
    /// Default region for the script (`$REGION` overrides it when run).
    pub region: String,
    /// The account Pub/Sub, Eventarc and Cloud Scheduler sign their calls as;
    /// default `nubes-invoker@<project>.iam.gserviceaccount.com`.
    pub invoker_service_account: Option<String>,
    /// True when the binary is built with nubes' `gcp-push-auth` feature:
    /// `triggers.sh` then sets `NUBES_GCP_PUSH_AUDIENCE` and
    /// `NUBES_GCP_PUSH_SERVICE_ACCOUNTS` so the binary verifies every event
    /// delivery's token itself. Default false: the script leaves them unset
    /// (a binary without the feature refuses to start with them) and event
    /// deliveries rely on Cloud Run's IAM invoker check.
    pub push_auth: bool,
    /// The account the service runs as, if not the default compute account.
    pub runtime_service_account: Option<String>,
    /// The storage notifications each bucket trigger subscribes to.
    pub storage_actions: Vec<StorageAction>,
    /// Seconds Pub/Sub waits for an answer before redelivering (10 to 600).
    pub ack_deadline_seconds: u32,
    /// Deliveries of a message before Pub/Sub moves it to the queue's
    /// dead-letter topic `<queue>-dlq` (5 to 100; default 5, as SQS's
    /// `maxReceiveCount` in the SAM template and Azure's `maxDequeueCount`).
    pub max_delivery_attempts: u32,
    /// True when the binary is built beforehand (`nubes build --platform gcp`)
    /// and sits next to the Dockerfile: the image then just copies it instead
    /// of compiling the workspace inside Docker.
    pub prebuilt: bool,
}

impl ManifestOptions {
    /// Options for service `service` built from binary `binary`, with
    /// placeholders for the project, region and image.
    pub fn new(service: impl Into<String>, binary: impl Into<String>) -> Self {
        ManifestOptions {
            service: service.into(),
            binary: binary.into(),
            features: Vec::new(),
            image: "${IMAGE}".to_owned(),
            rust_image: "rust:1-bookworm".to_owned(),
            project: "my-project".to_owned(),
            region: "europe-west1".to_owned(),
            invoker_service_account: None,
            push_auth: false,
            runtime_service_account: None,
            storage_actions: vec![StorageAction::Created, StorageAction::Deleted],
            ack_deadline_seconds: 60,
            max_delivery_attempts: 5,
            prebuilt: false,
        }
    }
}

/// The generated files.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Manifest {
    /// `service.yaml`: `gcloud run services replace service.yaml`.
    pub service_yaml: String,
    /// `Dockerfile`: builds the binary into a distroless image.
    pub dockerfile: String,
    /// `triggers.sh`: idempotent `gcloud` commands wiring every trigger.
    pub triggers_script: String,
}

impl Manifest {
    /// The files with their conventional names.
    pub fn files(&self) -> [(&'static str, &str); 3] {
        [
            ("service.yaml", &self.service_yaml),
            ("Dockerfile", &self.dockerfile),
            ("triggers.sh", &self.triggers_script),
        ]
    }
}

/// Generates the deployment files for `app` (from
/// [`App::describe`](nubes_core::App::describe)).
///
/// Fails with a [`Config`](nubes_core::ErrorKind::Config) error when a name
/// or a schedule cannot be expressed on Google Cloud (a service name with
/// upper-case letters, a queue name shorter than 3 characters, a cron with
/// a seconds field other than `0`).
pub fn generate(app: &AppDescription, options: &ManifestOptions) -> Result<Manifest, Error> {
    check_service_name(&options.service)?;
    if !(10..=600).contains(&options.ack_deadline_seconds) {
        return Err(Error::config(
            "the Pub/Sub ack deadline must be between 10 and 600 seconds",
        ));
    }
    if !(5..=100).contains(&options.max_delivery_attempts) {
        return Err(Error::config(
            "Pub/Sub's maximum delivery attempts must be between 5 and 100",
        ));
    }
    let buckets = buckets::plan(app, options)?;
    let mut plan = Vec::new();
    for trigger in &app.triggers {
        plan.push(match trigger.kind {
            TriggerKind::Queue => {
                check_pubsub_name(&trigger.name)?;
                Wiring::Queue(trigger.name.clone())
            }
            TriggerKind::Storage => {
                // Eventarc filters on the cloud name of a declared bucket
                // (the script's `NUBES_BUCKET_<NAME>` overrides it, as for
                // the bucket itself).
                let physical = buckets
                    .iter()
                    .find(|b| b.name == trigger.name)
                    .map_or_else(|| trigger.name.clone(), buckets::shell_name);
                Wiring::Storage(trigger.name.clone(), physical)
            }
            TriggerKind::Schedule => Wiring::Schedule(trigger.name.clone(), unix_cron(trigger)?),
            _ => continue,
        });
    }
    Ok(Manifest {
        service_yaml: service::yaml(options, &buckets::env(&buckets)),
        dockerfile: dockerfile::text(options),
        triggers_script: triggers::script(options, &plan, &buckets),
    })
}

/// One trigger and how it is wired.
#[derive(Debug)]
enum Wiring {
    Queue(String),
    /// The trigger's name and the bucket's cloud name (a shell word).
    Storage(String, String),
    /// Name and its Cloud Scheduler (unix-cron) expression.
    Schedule(String, String),
}

fn check_service_name(name: &str) -> Result<(), Error> {
    let ok = (1..=49).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::config(format!(
            "Cloud Run service name `{name}` is not valid: use 1-49 lower-case letters, digits \
             and `-`, starting with a letter and not ending with `-`"
        )))
    }
}

/// Pub/Sub topic and subscription ids: 3-255 characters, starting with a
/// letter; the dead-letter topic's id adds a suffix, which must fit too.
fn check_pubsub_name(name: &str) -> Result<(), Error> {
    let fits = triggers::dead_letter_name(name).len() <= 255;
    if fits && name.len() >= 3 && name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        Ok(())
    } else {
        Err(Error::config(format!(
            "queue trigger `{name}`: Pub/Sub topic and subscription ids need at least 3 \
             characters (at most 251, to leave room for the dead-letter topic's `-dlq`) and \
             must start with a letter"
        )))
    }
}

/// Cloud Scheduler speaks unix-cron (5 fields, minute granularity, UTC here).
fn unix_cron(trigger: &TriggerDescription) -> Result<String, Error> {
    let cron = schedule::cron(trigger)?;
    schedule::whole_minutes(&cron, "Cloud Scheduler")?;
    Ok(cron.standard_fields().join(" "))
}

/// A resource id made of lower-case letters, digits and `-` (Eventarc).
fn kebab(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
