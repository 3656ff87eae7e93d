//! S3 event notifications and EventBridge S3 events → storage triggers
//! (trigger = bucket name).

use nubes_core::raw::AppDispatch as _;
use nubes_core::{StorageEvent, TriggerKind};

use crate::failure::InvocationError;
use crate::handler::{Scope, reply_for};
use crate::s3::{EventBridgeS3, S3Notification};

/// `{"Records":[{"eventSource":"aws:s3",…}]}` sent straight to Lambda.
pub(crate) async fn handle_notification(scope: &Scope<'_>) -> Result<Vec<u8>, InvocationError> {
    dispatch_all(scope, decode_notification(scope)?).await
}

/// An EventBridge event with `source: aws.s3`.
pub(crate) async fn handle_eventbridge(scope: &Scope<'_>) -> Result<Vec<u8>, InvocationError> {
    dispatch_all(scope, vec![decode_eventbridge(scope)?]).await
}

/// The storage events of an S3 notification.
pub(crate) fn decode_notification(scope: &Scope<'_>) -> Result<Vec<StorageEvent>, InvocationError> {
    let notification: S3Notification<'_> = serde_json::from_slice(scope.payload).map_err(|e| {
        InvocationError::invalid_event(format!("S3 notification is malformed: {e}"))
    })?;
    notification.records.iter().map(|r| r.to_event()).collect()
}

/// The storage event of an EventBridge S3 event.
pub(crate) fn decode_eventbridge(scope: &Scope<'_>) -> Result<StorageEvent, InvocationError> {
    let event: EventBridgeS3<'_> = serde_json::from_slice(scope.payload).map_err(|e| {
        InvocationError::invalid_event(format!("EventBridge S3 event is malformed: {e}"))
    })?;
    event.to_event()
}

async fn dispatch_all(
    scope: &Scope<'_>,
    events: Vec<StorageEvent>,
) -> Result<Vec<u8>, InvocationError> {
    let mut outcomes = Vec::with_capacity(events.len());
    for event in events {
        let trigger = scope.trigger_name(TriggerKind::Storage, &event.bucket);
        let ctx = scope.context(TriggerKind::Storage, trigger, 1, scope.raw_all());
        let outcome = scope
            .before_deadline(scope.app().dispatch_storage(event, ctx))
            .await
            .ok_or_else(|| {
                InvocationError::deadline_exceeded(
                    "the storage event was not handled before the deadline",
                )
            })?;
        outcomes.push(outcome);
    }
    reply_for(outcomes)
}
