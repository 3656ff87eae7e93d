//! The `App` builder: one HTTP service plus named event triggers.

use std::collections::BTreeMap;

use bytes::Bytes;
use http::{Request, Response};
use tower_service::Service;

use crate::describe::{AppDescription, TriggerDescription};
use crate::raw::{BoxedHandler, HttpService};
use crate::resource::{Access, Resource, ResourceDescription, ResourceKind};
use crate::{
    Body, BoxError, CronSchedule, Error, EventHandler, QueueMessage, ScheduledEvent, StorageEvent,
    TriggerKind,
};

/// A serverless app: an optional HTTP service and any number of queue, storage
/// and schedule triggers. Build it once; every adapter runs it unchanged.
///
/// Registration never panics. Mistakes (an invalid cron expression, a duplicate
/// or malformed trigger name) are collected and reported by [`App::validate`],
/// which every adapter calls before serving, so they surface at startup.
///
/// ```
/// use nubes_core::{App, BoxError, Context, QueueMessage, ScheduledEvent};
///
/// async fn process(msg: QueueMessage, _ctx: Context) -> Result<(), BoxError> {
///     println!("{}", msg.text()?);
///     Ok(())
/// }
/// async fn report(_ev: ScheduledEvent, _ctx: Context) -> Result<(), BoxError> { Ok(()) }
///
/// let app = App::new()
///     .on_queue("orders", process)
///     .on_schedule("nightly", "0 3 * * *", report);
/// assert!(app.validate().is_ok());
///
/// let bad = App::new().on_schedule("nightly", "0 3 * *", report);
/// assert!(bad.validate().unwrap_err().to_string().contains("invalid cron expression"));
/// ```
#[derive(Default)]
pub struct App {
    pub(crate) http: Option<HttpService>,
    pub(crate) queues: BTreeMap<String, BoxedHandler<QueueMessage>>,
    pub(crate) storage: BTreeMap<String, BoxedHandler<StorageEvent>>,
    pub(crate) schedules: BTreeMap<String, ScheduleTrigger>,
    /// Declared resources and the union of the access declared for each.
    resources: BTreeMap<(ResourceKind, String), Access>,
    problems: Vec<Error>,
}

/// A registered schedule: its cron and its handler.
#[derive(Clone, Debug)]
pub struct ScheduleTrigger {
    /// When it fires.
    pub schedule: CronSchedule,
    /// What runs.
    pub handler: BoxedHandler<ScheduledEvent>,
}

impl App {
    /// An empty app.
    pub fn new() -> Self {
        App::default()
    }

    /// Serves HTTP with `service`: an `axum::Router` or any other
    /// `tower::Service<http::Request<Body>>`.
    pub fn http<S, B>(mut self, service: S) -> Self
    where
        S: Service<Request<Body>, Response = Response<B>> + Clone + Send + Sync + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        if self.http.is_some() {
            self.problems.push(Error::config(
                "`App::http` was called twice; compose routes into one service instead",
            ));
        }
        self.http = Some(HttpService::new(service));
        self
    }

    /// Runs `handler` for each message of the queue or topic `name`.
    pub fn on_queue(
        mut self,
        name: impl Into<String>,
        handler: impl EventHandler<QueueMessage>,
    ) -> Self {
        let name = name.into();
        if self.check_name(TriggerKind::Queue, &name) {
            self.queues.insert(name, BoxedHandler::new(handler));
        }
        self
    }

    /// Runs `handler` for each object notification of the bucket `name`.
    pub fn on_storage(
        mut self,
        name: impl Into<String>,
        handler: impl EventHandler<StorageEvent>,
    ) -> Self {
        let name = name.into();
        if self.check_name(TriggerKind::Storage, &name) {
            self.storage.insert(name, BoxedHandler::new(handler));
        }
        self
    }

    /// Runs `handler` on the cron expression `cron` (UTC; 5 fields, or 6 with
    /// seconds first). An invalid expression is reported by [`App::validate`].
    pub fn on_schedule(
        mut self,
        name: impl Into<String>,
        cron: &str,
        handler: impl EventHandler<ScheduledEvent>,
    ) -> Self {
        let name = name.into();
        // Check the name first so a bad cron does not hide a bad name.
        if !self.check_name(TriggerKind::Schedule, &name) {
            return self;
        }
        match CronSchedule::parse(cron) {
            Ok(schedule) => {
                let handler = BoxedHandler::new(handler);
                self.schedules
                    .insert(name, ScheduleTrigger { schedule, handler });
            }
            Err(err) => self.problems.push(Error::config(format!(
                "schedule `{name}`: {}",
                err.message()
            ))),
        }
        self
    }

    /// Declares that the app uses `resource` (a [`Bucket`](crate::bucket::Bucket),
    /// …) with the access it was declared with, so [`App::describe`] lists it
    /// and the manifests create it and grant that access. Declaring the same
    /// resource twice grants the union. A resource named like a trigger of the
    /// matching kind is that trigger's resource (`on_storage("uploads", …)`
    /// and `Bucket::new("uploads")` are one bucket).
    pub fn uses(mut self, resource: &impl Resource) -> Self {
        let ResourceDescription { kind, name, access } = resource.description();
        if let Err(why) = valid_trigger_name(&name) {
            self.problems
                .push(Error::config(format!("{kind} `{name}`: {why}")));
            return self;
        }
        if access.is_empty() {
            self.problems.push(Error::config(format!(
                "{kind} `{name}` is declared with no access: say what the app does with it, \
                 e.g. `.allow(Access::READ | Access::WRITE)`"
            )));
            return self;
        }
        *self.resources.entry((kind, name)).or_default() |= access;
        self
    }

    /// Checks the registration; the first thing every adapter does.
    pub fn validate(&self) -> Result<(), Error> {
        match self.problems.as_slice() {
            [] => Ok(()),
            [only] => Err(Error::config(only.message())),
            many => Err(Error::config(format!(
                "{} problems: {}",
                many.len(),
                many.iter()
                    .map(Error::message)
                    .collect::<Vec<_>>()
                    .join("; ")
            ))),
        }
    }

    /// The app as data: HTTP or not, and each trigger.
    pub fn describe(&self) -> AppDescription {
        let mut triggers = Vec::new();
        let plain = |kind, name: &String| TriggerDescription {
            kind,
            name: name.clone(),
            schedule: None,
        };
        triggers.extend(self.queues.keys().map(|n| plain(TriggerKind::Queue, n)));
        triggers.extend(self.storage.keys().map(|n| plain(TriggerKind::Storage, n)));
        triggers.extend(self.schedules.iter().map(|(name, t)| TriggerDescription {
            kind: TriggerKind::Schedule,
            name: name.clone(),
            schedule: Some(t.schedule.expression().to_owned()),
        }));
        let resources = self
            .resources
            .iter()
            .map(|((kind, name), access)| ResourceDescription {
                kind: *kind,
                name: name.clone(),
                access: *access,
            })
            .collect();
        AppDescription {
            http: self.http.is_some(),
            triggers,
            resources,
        }
    }

    /// True when a trigger of `kind` named `name` is registered.
    pub(crate) fn is_registered(&self, kind: TriggerKind, name: &str) -> bool {
        match kind {
            TriggerKind::Http => self.http.is_some(),
            TriggerKind::Queue => self.queues.contains_key(name),
            TriggerKind::Storage => self.storage.contains_key(name),
            TriggerKind::Schedule => self.schedules.contains_key(name),
        }
    }

    /// Records a problem unless `name` is a valid, unused trigger name.
    fn check_name(&mut self, kind: TriggerKind, name: &str) -> bool {
        if let Err(why) = valid_trigger_name(name) {
            self.problems
                .push(Error::config(format!("{kind} trigger `{name}`: {why}")));
            return false;
        }
        let taken = [
            TriggerKind::Queue,
            TriggerKind::Storage,
            TriggerKind::Schedule,
        ]
        .into_iter()
        .find(|k| self.is_registered(*k, name));
        if let Some(existing) = taken {
            self.problems.push(Error::config(format!(
                "{kind} trigger `{name}`: the name is already used by a {existing} trigger \
                 (names must be unique: each becomes a function or route of its own)"
            )));
            return false;
        }
        true
    }
}

/// Trigger names become cloud resource names, function names and URL path
/// segments, so they are kept to a portable alphabet.
fn valid_trigger_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() || name.len() > 80 {
        return Err("names must be 1 to 80 characters long");
    }
    if !name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric())
    {
        return Err("names must start with a letter or digit");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err("names may contain only ASCII letters, digits, `-`, `_` and `.`");
    }
    Ok(())
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("description", &self.describe())
            .field("problems", &self.problems)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Context;

    async fn q(_: QueueMessage, _: Context) -> Result<(), BoxError> {
        Ok(())
    }
    async fn s(_: StorageEvent, _: Context) -> Result<(), BoxError> {
        Ok(())
    }
    async fn t(_: ScheduledEvent, _: Context) -> Result<(), BoxError> {
        Ok(())
    }

    #[test]
    fn describes_every_trigger() {
        let app = App::new()
            .on_schedule("nightly", "0 3 * * *", t)
            .on_storage("uploads", s)
            .on_queue("orders", q);
        let d = app.describe();
        let names: Vec<_> = d
            .triggers
            .iter()
            .map(|t| (t.kind, t.name.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                (TriggerKind::Queue, "orders"),
                (TriggerKind::Storage, "uploads"),
                (TriggerKind::Schedule, "nightly")
            ]
        );
        assert_eq!(d.triggers[2].schedule.as_deref(), Some("0 3 * * *"));
        assert_eq!(
            serde_json::to_value(&d).unwrap()["triggers"][0],
            serde_json::json!({"kind":"queue","name":"orders"})
        );
    }

    #[test]
    fn duplicate_names_are_rejected_across_kinds() {
        let app = App::new().on_queue("orders", q).on_storage("orders", s);
        let err = app.validate().unwrap_err();
        assert!(
            err.to_string().contains("already used by a queue trigger"),
            "{err}"
        );
    }

    #[test]
    fn bad_names_and_crons_are_all_reported() {
        let app = App::new()
            .on_queue("../etc", q)
            .on_schedule("x", "every day", t);
        let err = app.validate().unwrap_err();
        assert!(
            err.to_string()
                .starts_with("configuration error: 2 problems"),
            "{err}"
        );
        assert!(!app.is_registered(TriggerKind::Queue, "../etc"));
    }

    #[test]
    fn resources_are_described_with_the_union_of_their_access() {
        use crate::bucket::Bucket;
        let app = App::new()
            .uses(&Bucket::new("uploads").allow(Access::READ))
            .uses(&Bucket::new("results").allow(Access::WRITE))
            .uses(&Bucket::new("uploads").allow(Access::DELETE))
            .on_storage("uploads", s);
        assert!(app.validate().is_ok());
        let d = app.describe();
        let got: Vec<_> = d
            .resources
            .iter()
            .map(|r| (r.kind, r.name.as_str(), r.access))
            .collect();
        assert_eq!(
            got,
            [
                (ResourceKind::Bucket, "results", Access::WRITE),
                (
                    ResourceKind::Bucket,
                    "uploads",
                    Access::READ | Access::DELETE
                ),
            ]
        );
        assert_eq!(
            serde_json::to_value(&d).unwrap()["resources"][0],
            serde_json::json!({"kind":"bucket","name":"results","access":["write"]})
        );
    }

    #[test]
    fn resources_without_access_or_with_bad_names_are_reported() {
        use crate::bucket::Bucket;
        let err = App::new()
            .uses(&Bucket::new("uploads"))
            .uses(&Bucket::new("../x").allow(Access::READ))
            .validate()
            .unwrap_err();
        assert!(err.to_string().contains("2 problems"), "{err}");
        assert!(err.to_string().contains("no access"), "{err}");
    }

    #[test]
    fn closures_are_handlers() {
        let app = App::new().on_queue("q1", |msg: QueueMessage, _ctx: Context| async move {
            msg.text().map(|_| ())
        });
        assert!(app.queues.contains_key("q1"));
    }
}
