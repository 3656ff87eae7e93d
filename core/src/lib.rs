//! The provider-neutral core of [nubes](https://crates.io/crates/nubes).
//!
//! This crate holds what every adapter shares and nothing cloud-specific: the
//! [`App`] builder, the neutral events ([`QueueMessage`], [`StorageEvent`],
//! [`ScheduledEvent`]), the per-invocation [`Context`], the [`Error`] type with
//! its [`ErrorKind`]s, [`permanent`] errors, validated [`CronSchedule`]s, and
//! [`App::dispatch_queue`] & co., the one path by which adapters run handlers.
//!
//! Users normally depend on the `nubes` facade, which re-exports all of this.

mod app;
mod body;
mod context;
mod cron;
mod current;
pub mod deadline;
mod describe;
mod dispatch;
pub mod env;
mod error;
mod event;
mod handler;
mod http_dispatch;
mod http_service;
pub mod idempotency;
pub mod log_fields;
pub mod log_filter;
pub mod metrics;
mod outcome;
mod permanent;
mod platform;
mod raw_event;
mod signal;
mod trace;

pub use app::{App, ScheduleTrigger};
pub use body::Body;
pub use context::{Context, ContextBuilder};
pub use cron::CronSchedule;
pub use current::{current_context, scope as with_context};
pub use describe::{AppDescription, TriggerDescription};
pub use dispatch::panic_message;
pub use error::{BoxError, Error, ErrorKind};
pub use event::{
    BodyEncoding, QueueMessage, ScheduledEvent, StorageAction, StorageEvent, encode_body,
};
pub use handler::{BoxedHandler, EventHandler};
pub use http_dispatch::{HttpDispatch, HttpTimeout, json_error};
pub use http_service::HttpService;
pub use outcome::Outcome;
pub use permanent::{Permanent, ResultExt, is_permanent, permanent};
pub use platform::{Platform, TriggerKind};
pub use raw_event::RawEvent;
pub use signal::shutdown_signal;
pub use trace::TraceContext;

/// Re-exported: the byte buffer type of bodies.
pub use bytes;
/// Re-exported: the date-time types of event fields.
pub use chrono;

/// Re-exported so users and adapters name the same cancellation token type.
pub use tokio_util::sync::CancellationToken;
