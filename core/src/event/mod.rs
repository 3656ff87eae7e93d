//! Neutral events: what every cloud's queue, storage and timer triggers become.

mod payload;
mod queue;
mod schedule;
mod storage;

pub use payload::{BodyEncoding, encode_body};
pub use queue::QueueMessage;
pub use schedule::ScheduledEvent;
pub use storage::{StorageAction, StorageEvent};
