//! The platform-neutral core of [nubes](https://crates.io/crates/nubes).
//!
//! This crate holds what every adapter shares and nothing platform-specific:
//! the [`App`] builder, the neutral events ([`QueueMessage`], [`StorageEvent`],
//! [`ScheduledEvent`]), the per-invocation [`Context`], the [`Error`] type with
//! its [`ErrorKind`]s, [`permanent`] errors, validated [`CronSchedule`]s,
//! [`idempotency`] and [`metrics`].
//!
//! What only adapters need (running handlers, building contexts, deadlines,
//! settings, the termination signal) is in [`raw`], which has no stability
//! promise.
//!
//! Users normally depend on the `nubes` facade, which re-exports the user-facing
//! part of this crate.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod app;
mod body;
pub mod bucket;
mod context;
mod cron;
mod current;
mod describe;
mod dispatch;
mod error;
mod error_response;
mod event;
mod handler;
mod http_dispatch;
mod http_service;
pub mod idempotency;
pub mod metrics;
mod outcome;
mod permanent;
mod platform;
pub mod raw;
mod raw_event;
pub mod resource;
mod trace;

pub use app::App;
pub use body::Body;
pub use context::Context;
pub use cron::CronSchedule;
pub use current::{current_context, scope as with_context};
pub use describe::{AppDescription, TriggerDescription};
pub use error::{BoxError, Error, ErrorKind};
pub use event::{QueueMessage, ScheduledEvent, StorageAction, StorageEvent};
pub use handler::EventHandler;
pub use permanent::{Permanent, ResultExt, is_permanent, permanent};
pub use platform::{Platform, TriggerKind};
pub use raw_event::RawEvent;
pub use trace::TraceContext;

/// Re-exported: the byte buffer type of bodies.
pub use bytes;
/// Re-exported: the date-time types of event fields.
pub use chrono;

/// Re-exported: the type of [`Context::shutdown`], so users and adapters name
/// the same cancellation token type.
pub use tokio_util::sync::CancellationToken;
