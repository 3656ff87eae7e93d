//! Buckets on Google Cloud: each declared bucket's cloud name, the
//! `NUBES_BUCKET_<NAME>` variables of `service.yaml`, and the `triggers.sh`
//! section that creates the buckets and grants the service's account exactly
//! the declared access, on each bucket only.
//!
//! | access | role, bound on the bucket |
//! |---|---|
//! | read | `roles/storage.objectViewer` (get, list) |
//! | write | `roles/storage.objectCreator` (create, incl. XML multipart uploads) |
//! | delete | `projects/$PROJECT/roles/nubesObjectDeleter` (only `storage.objects.delete`; no predefined role has delete without more) |
//!
//! On Cloud Storage, replacing an existing object also needs
//! `storage.objects.delete`: an app that overwrites keys declares
//! `WRITE | DELETE`; with `WRITE` alone an overwrite is `PermissionDenied`
//! (the grant stays exactly what the app declared).
//!
//! Presigned URLs on Cloud Run are signed by IAM as the service's own account
//! (`signBlob`), so that account also gets `roles/iam.serviceAccountTokenCreator`
//! on itself (not on the project): the URLs it signs carry no more than the
//! bucket access above.

use std::fmt::Write as _;

use nubes_core::AppDescription;
use nubes_core::Error;
use nubes_core::resource::{Access, ResourceKind, env_var};

use super::{ManifestOptions, kebab};

/// One declared bucket.
#[derive(Debug)]
pub(super) struct PlannedBucket {
    /// The logical name.
    pub(super) name: String,
    /// Its cloud name (`<project>-<name>`: bucket names are global).
    pub(super) physical: String,
    pub(super) access: Access,
}

/// The buckets `app` declares, with their cloud names.
pub(super) fn plan(app: &AppDescription, o: &ManifestOptions) -> Result<Vec<PlannedBucket>, Error> {
    app.resources
        .iter()
        .filter(|r| r.kind == ResourceKind::Bucket)
        .map(|r| {
            let physical = format!("{}-{}", o.project, kebab(&r.name));
            if !(3..=63).contains(&physical.len()) {
                return Err(Error::config(format!(
                    "bucket `{}`: its Cloud Storage name `{physical}` must be 3 to 63 characters",
                    r.name
                )));
            }
            Ok(PlannedBucket {
                name: r.name.clone(),
                physical,
                access: r.access,
            })
        })
        .collect()
}

/// The bucket's cloud name in `triggers.sh`: `NUBES_BUCKET_<NAME>` when set
/// while it runs, else the name `service.yaml` sets.
pub(super) fn shell_name(b: &PlannedBucket) -> String {
    format!(
        "${{{}:-{}}}",
        env_var(ResourceKind::Bucket, &b.name),
        b.physical
    )
}

/// `(NUBES_BUCKET_<NAME>, cloud name)` for `service.yaml`.
pub(super) fn env(buckets: &[PlannedBucket]) -> Vec<(String, String)> {
    buckets
        .iter()
        .map(|b| (env_var(ResourceKind::Bucket, &b.name), b.physical.clone()))
        .collect()
}

/// The role each declared access gets, in a fixed order.
pub(super) fn roles(access: Access) -> Vec<&'static str> {
    let mut roles = Vec::new();
    if access.contains(Access::READ) {
        roles.push("roles/storage.objectViewer");
    }
    if access.contains(Access::WRITE) {
        roles.push("roles/storage.objectCreator");
    }
    if access.contains(Access::DELETE) {
        roles.push("projects/$PROJECT/roles/nubesObjectDeleter");
    }
    roles
}

/// The `triggers.sh` section: nothing when the app declares no bucket.
pub(super) fn script(s: &mut String, buckets: &[PlannedBucket]) {
    if buckets.is_empty() {
        return;
    }
    s.push_str(RUNTIME_ACCOUNT);
    if buckets.iter().any(|b| b.access.contains(Access::DELETE)) {
        s.push_str(DELETER_ROLE);
    }
    for b in buckets {
        let var = env_var(ResourceKind::Bucket, &b.name);
        let _ = write!(
            s,
            r#"
# bucket `{name}` ({access}) -> gs://{shell} ({var} in service.yaml)
BUCKET="{shell}"
if ! gcloud storage buckets describe "gs://$BUCKET" --project "$PROJECT" >/dev/null 2>&1; then
  gcloud storage buckets create "gs://$BUCKET" --project "$PROJECT" --location "$BUCKET_LOCATION" \
    --uniform-bucket-level-access
fi
"#,
            name = b.name,
            access = b.access,
            shell = shell_name(b),
        );
        for role in roles(b.access) {
            let _ = writeln!(
                s,
                r#"gcloud storage buckets add-iam-policy-binding "gs://$BUCKET" --member "serviceAccount:$RUNTIME_SA" \
  --role "{role}" >/dev/null"#
            );
        }
    }
}

/// The account the service runs as, and its right to sign as itself.
const RUNTIME_ACCOUNT: &str = r#"
# Buckets: created if missing; the service's account gets exactly the declared
# access, on each bucket only (read: objectViewer, write: objectCreator, delete:
# nubesObjectDeleter = storage.objects.delete). Replacing an existing object on
# Cloud Storage needs delete too: declare WRITE | DELETE to overwrite keys.
BUCKET_LOCATION="${BUCKET_LOCATION:-$REGION}"
RUNTIME_SA="$(gcloud run services describe "$SERVICE" --project "$PROJECT" --region "$REGION" --format 'value(spec.template.spec.serviceAccountName)')"
if [ -z "$RUNTIME_SA" ]; then
  RUNTIME_SA="$(gcloud projects describe "$PROJECT" --format 'value(projectNumber)')-compute@developer.gserviceaccount.com"
fi
# Presigned URLs: Cloud Run has no key, so IAM signs them (signBlob) as the
# service's own account; granted on that account only, not the project.
gcloud iam service-accounts add-iam-policy-binding "$RUNTIME_SA" --project "$PROJECT" \
  --member "serviceAccount:$RUNTIME_SA" --role roles/iam.serviceAccountTokenCreator >/dev/null
"#;

/// No predefined role grants deleting objects without reading or creating them.
const DELETER_ROLE: &str = r#"if ! gcloud iam roles describe nubesObjectDeleter --project "$PROJECT" >/dev/null 2>&1; then
  gcloud iam roles create nubesObjectDeleter --project "$PROJECT" --title "nubes object deleter" \
    --permissions storage.objects.delete >/dev/null
fi
"#;
