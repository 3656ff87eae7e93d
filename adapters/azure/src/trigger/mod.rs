//! One decoder per wire shape the host sends, each turning an [`Envelope`]
//! into a neutral event. A trigger kind has several shapes (a queue function
//! may be a Storage queue or a Service Bus trigger; a storage function a blob
//! or an Event Grid trigger): [`queue`] and [`storage`] tell them apart from
//! the envelope itself.

pub(crate) mod blob;
pub(crate) mod event_grid;
pub(crate) mod http_binding;
pub(crate) mod payload;
pub(crate) mod queue_storage;
pub(crate) mod service_bus;
pub(crate) mod timer;

use nubes_core::{Error, QueueMessage, StorageEvent};

use crate::envelope::Envelope;

/// Metadata keys only Service Bus triggers carry.
const SERVICE_BUS_KEYS: [&str; 5] = [
    "MessageId",
    "DeliveryCount",
    "SequenceNumber",
    "LockToken",
    "EnqueuedTimeUtc",
];

/// A queue function's message, from either wire shape.
/// A Storage queue message without an id (a hand-made payload) gets an empty
/// one, which the caller replaces with the invocation id.
pub(crate) fn queue(envelope: &Envelope, queue: &str) -> Result<QueueMessage, Error> {
    if SERVICE_BUS_KEYS.iter().any(|k| envelope.has_meta(k)) {
        service_bus::decode(envelope, queue)
    } else {
        queue_storage::decode(envelope, queue)
    }
}

/// A storage function's event, from either wire shape.
pub(crate) fn storage(envelope: &Envelope, container: &str) -> Result<StorageEvent, Error> {
    match event_grid::find(envelope)? {
        Some(event) => event_grid::decode(event),
        None => blob::decode(envelope, container),
    }
}
