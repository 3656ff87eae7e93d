//! Adapter plumbing: what only the authors of a platform adapter need.
//!
//! The rest of this crate is what a user writes handlers with. This module
//! holds how adapters turn a platform's deliveries into handler calls:
//! [`AppDispatch`] (looking triggers up and running them the nubes way),
//! [`ContextBuilder`], the HTTP dispatch future, deadlines, settings read
//! from the environment, the log filter and the process termination signal.
//!
//! **Only for those who write a new adapter** (or who need to build a
//! [`Context`](crate::Context) in a unit test of a handler). It has no
//! stability promise: it changes with the adapters.

mod app;
mod bucket_backend;
pub mod deadline;
pub mod env;
mod events;
pub mod log_fields;
pub mod log_filter;
mod request_body;
mod resources;
mod termination;

pub use app::AppDispatch;
pub use bucket_backend::BucketBackend;
pub use events::{json_event, raw_event};
pub use request_body::{RefusedBody, read_request_body};
pub use resources::{BucketConnector, Resources};
pub use termination::termination_signal;

pub use crate::app::ScheduleTrigger;
pub use crate::context::ContextBuilder;
pub use crate::dispatch::panic_message;
pub use crate::event::{BodyEncoding, encode_body};
pub use crate::handler::BoxedHandler;
pub use crate::http_dispatch::{HttpDispatch, HttpTimeout, json_error};
pub use crate::http_service::HttpService;
pub use crate::outcome::Outcome;
