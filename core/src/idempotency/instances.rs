//! The startup check that idempotency records are shared by every instance.
//!
//! AWS Lambda, Cloud Run and Azure Functions run as many instances as the load
//! needs, and a redelivery may reach any of them: records kept in one
//! instance's memory would let a duplicate run again elsewhere, silently. So a
//! handler that kept the default in-memory store is refused there; the user
//! names a shared store, or `MemoryStore::new()` to say one instance is enough.

use crate::{App, Error, Platform, TriggerKind};

/// Fails with a [`Config`](crate::ErrorKind::Config) error naming every
/// trigger whose idempotent handler kept the implicit in-memory store, unless
/// `platform` runs a single instance (the local runner).
pub(crate) fn check(app: &App, platform: Platform) -> Result<(), Error> {
    if platform == Platform::Local {
        return Ok(());
    }
    let queues = app
        .queues
        .iter()
        .map(|(n, h)| (TriggerKind::Queue, n, h.implicit_memory_store()));
    let storage = app
        .storage
        .iter()
        .map(|(n, h)| (TriggerKind::Storage, n, h.implicit_memory_store()));
    let schedules = app
        .schedules
        .iter()
        .map(|(n, t)| (TriggerKind::Schedule, n, t.handler.implicit_memory_store()));
    let unshared: Vec<String> = queues
        .chain(storage)
        .chain(schedules)
        .filter(|(_, _, implicit)| *implicit)
        .map(|(kind, name, _)| format!("{kind} trigger `{name}`"))
        .collect();
    if unshared.is_empty() {
        return Ok(());
    }
    Err(Error::config(format!(
        "{}: the idempotent handler keeps its records in this instance's memory, which \
         protects nothing across the instances {platform} runs; give it a shared store \
         (`.store(RedisStore::open(url)?)` with the `redis` feature, or your own \
         `IdempotencyStore`), or `.store(MemoryStore::new())` to accept one instance's memory",
        unshared.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idempotency::{MemoryStore, idempotent};
    use crate::{BoxError, Context, QueueMessage, ScheduledEvent};

    async fn charge(_: QueueMessage, _: Context) -> Result<(), BoxError> {
        Ok(())
    }
    async fn report(_: ScheduledEvent, _: Context) -> Result<(), BoxError> {
        Ok(())
    }

    #[test]
    fn the_implicit_memory_store_is_refused_where_many_instances_run() {
        let app = App::new()
            .on_queue("payments", idempotent(charge))
            .on_schedule("nightly", "0 3 * * *", idempotent(report));
        for platform in [Platform::Aws, Platform::Gcp, Platform::Azure] {
            let err = check(&app, platform).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::Config);
            let message = err.to_string();
            assert!(
                message.contains("queue trigger `payments`, schedule trigger `nightly`")
                    && message.contains(&format!("instances {platform} runs"))
                    && message.contains(".store(MemoryStore::new())"),
                "{message}"
            );
        }
        assert!(check(&app, Platform::Local).is_ok());
    }

    #[test]
    fn a_named_store_is_accepted_everywhere_even_memory() {
        let app = App::new()
            .on_queue("payments", idempotent(charge).store(MemoryStore::new()))
            .on_queue("plain", charge);
        for platform in [
            Platform::Local,
            Platform::Aws,
            Platform::Gcp,
            Platform::Azure,
        ] {
            assert!(check(&app, platform).is_ok(), "{platform}");
        }
    }

    #[test]
    fn a_derived_key_keeps_the_choice_of_store() {
        let keyed = idempotent(charge).key(|m: &QueueMessage, _: &Context| Ok(m.id.clone()));
        let app = App::new().on_queue("payments", keyed);
        assert!(check(&app, Platform::Aws).is_err());
    }
}
