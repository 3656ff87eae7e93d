//! Deploy-time files for nubes apps, generated from the app's description
//! ([`App::describe`](nubes_core::App::describe)), so the code stays the
//! single source of truth for what a deployment creates:
//!
//! - [`aws`]: the AWS SAM template (one Lambda function, an event source per
//!   trigger, dead-letter queues);
//! - [`gcp`]: the Cloud Run `service.yaml`, a `Dockerfile` and `triggers.sh`
//!   (Pub/Sub push subscriptions with dead-letter topics, Eventarc triggers,
//!   Cloud Scheduler jobs);
//! - [`azure`]: the function app's `host.json`, `local.settings.json` and one
//!   `function.json` per function.
//!
//! This crate has no runtime part: the adapters (`nubes-aws`, `nubes-gcp`,
//! `nubes-azure`) serve what these files wire up, and the `nubes` CLI writes
//! the files (`nubes build`, `nubes manifest`). A trigger a platform cannot
//! express (a name it refuses, a schedule finer than it fires) is a
//! [`Config`](nubes_core::ErrorKind::Config) error, never a silently
//! different deployment.
//!
//! ```
//! use nubes_core::{App, BoxError, Context, ScheduledEvent};
//!
//! async fn report(_: ScheduledEvent, _: Context) -> Result<(), BoxError> { Ok(()) }
//!
//! let app = App::new().on_schedule("nightly", "0 3 * * *", report).describe();
//! let sam = nubes_deploy::aws::sam_template(&app, &Default::default()).unwrap();
//! let gcp = nubes_deploy::gcp::generate(&app, &nubes_deploy::gcp::ManifestOptions::new("shop", "shop")).unwrap();
//! let azure = nubes_deploy::azure::generate(&app, &Default::default()).unwrap();
//! assert!(sam["Resources"]["Function"]["Properties"]["Events"]["ScheduleNightly"].is_object());
//! assert!(gcp.triggers_script.contains("scheduler jobs create http"));
//! assert_eq!(azure.len(), 3); // host.json, local.settings.json, the timer's function.json
//! ```

pub mod aws;
pub mod azure;
pub mod gcp;
mod schedule;
