//! The resource backends of a running app: what [`Bucket`](crate::bucket::Bucket)
//! and the other resource handles resolve to on first use.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, RwLock};

use super::BucketBackend;
use crate::resource::{Access, ResourceKind};
use crate::{AppDescription, Error, Platform};

/// Creates the backend of one bucket, by logical name, on first use.
///
/// Adapters implement it for their platform (reading `NUBES_BUCKET_<NAME>`
/// and their credentials); [`Resources`] caches what it returns.
pub trait BucketConnector: Send + Sync + 'static {
    /// The backend of bucket `name`.
    fn connect(&self, name: &str) -> Result<Arc<dyn BucketBackend>, Error>;
}

impl<F> BucketConnector for F
where
    F: Fn(&str) -> Result<Arc<dyn BucketBackend>, Error> + Send + Sync + 'static,
{
    fn connect(&self, name: &str) -> Result<Arc<dyn BucketBackend>, Error> {
        self(name)
    }
}

/// The resources an app declared and how to reach them on this platform.
///
/// An adapter builds one at start ([`Resources::new`] plus a connector per
/// kind it supports), attaches it to every [`Context`](crate::Context)
/// ([`ContextBuilder::resources`](super::ContextBuilder::resources)) and
/// [`install`](Resources::install)s it for code outside handlers. Nothing
/// connects until a handle is used.
pub struct Resources {
    platform: Platform,
    declared: HashMap<(ResourceKind, String), Access>,
    buckets: Option<Box<dyn BucketConnector>>,
    open_buckets: Mutex<HashMap<String, Arc<dyn BucketBackend>>>,
}

static INSTALLED: RwLock<Option<Arc<Resources>>> = RwLock::new(None);

impl Resources {
    /// The resources `app` declared, on `platform`, with no backend yet.
    pub fn new(platform: Platform, app: &AppDescription) -> Self {
        Resources {
            platform,
            declared: app
                .resources
                .iter()
                .map(|r| ((r.kind, r.name.clone()), r.access))
                .collect(),
            buckets: None,
            open_buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Buckets are reached through `connector`.
    pub fn with_buckets(mut self, connector: impl BucketConnector) -> Self {
        self.buckets = Some(Box::new(connector));
        self
    }

    /// True when the app declared no resource (adapters then skip the rest).
    pub fn is_empty(&self) -> bool {
        self.declared.is_empty()
    }

    /// True when the app declared a resource of `kind`.
    pub fn declares(&self, kind: ResourceKind) -> bool {
        self.declared.keys().any(|(k, _)| *k == kind)
    }

    /// Makes these the resources of code that runs outside any handler (a
    /// task the user spawned, start-up code); the latest install wins.
    pub fn install(self: &Arc<Self>) {
        let mut slot = INSTALLED.write().unwrap_or_else(|p| p.into_inner());
        *slot = Some(Arc::clone(self));
    }

    /// The resources of the current invocation, or the installed ones.
    pub fn current() -> Option<Arc<Resources>> {
        if let Some(found) = crate::current::resources() {
            return Some(found);
        }
        INSTALLED
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(Arc::clone)
    }

    /// Checks that the app declared `needed` on `kind` `name`.
    pub fn check(&self, kind: ResourceKind, name: &str, needed: Access) -> Result<(), Error> {
        let Some(declared) = self.declared.get(&(kind, name.to_owned())) else {
            return Err(Error::permission_denied(format!(
                "{kind} `{name}` is not declared on the App: register it with `App::uses`, \
                 so the manifests create it and grant access"
            )));
        };
        if !declared.contains(needed) {
            return Err(Error::permission_denied(format!(
                "{kind} `{name}` is declared with {declared} access; this operation needs \
                 {needed}: add it with `.allow(Access::…)`"
            )));
        }
        Ok(())
    }

    /// The backend of bucket `name` for an operation that needs `needed`,
    /// connected on first use.
    pub fn bucket(&self, name: &str, needed: Access) -> Result<Arc<dyn BucketBackend>, Error> {
        self.check(ResourceKind::Bucket, name, needed)?;
        let mut open = self.open_buckets.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(backend) = open.get(name) {
            return Ok(Arc::clone(backend));
        }
        let connector = self.buckets.as_ref().ok_or_else(|| {
            Error::unsupported(format!(
                "this build has no bucket backend for {}: enable the `bucket` feature of nubes",
                self.platform
            ))
        })?;
        let backend = connector.connect(name)?;
        open.insert(name.to_owned(), Arc::clone(&backend));
        Ok(backend)
    }
}

impl fmt::Debug for Resources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resources")
            .field("platform", &self.platform)
            .field("declared", &self.declared)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::App;
    use crate::bucket::Bucket;

    fn resources() -> Resources {
        let reader = Bucket::new("uploads").allow(Access::READ);
        let app = App::new().uses(&reader);
        Resources::new(Platform::Local, &app.describe())
    }

    #[test]
    fn undeclared_resources_and_access_are_refused() {
        let r = resources();
        assert!(
            r.check(ResourceKind::Bucket, "uploads", Access::READ)
                .is_ok()
        );
        let write = r
            .check(ResourceKind::Bucket, "uploads", Access::WRITE)
            .unwrap_err();
        assert_eq!(write.kind(), crate::ErrorKind::PermissionDenied);
        assert!(
            write.message().contains("declared with read access"),
            "{write}"
        );
        let other = r
            .check(ResourceKind::Bucket, "results", Access::READ)
            .unwrap_err();
        assert!(other.message().contains("not declared"), "{other}");
    }

    #[test]
    fn a_platform_without_backend_says_which_feature() {
        let err = resources().bucket("uploads", Access::READ).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Unsupported);
        assert!(err.message().contains("`bucket` feature"), "{err}");
    }
}
