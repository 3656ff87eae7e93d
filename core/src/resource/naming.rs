//! Logical resource names → cloud identifiers, through the environment.

use super::ResourceKind;

/// The environment variable that holds the cloud identifier of resource
/// `name`: `NUBES_<KIND>_<NAME>`, the name upper-cased with `-` and `.` as `_`.
///
/// ```
/// use nubes_core::resource::{ResourceKind, env_var};
///
/// assert_eq!(env_var(ResourceKind::Bucket, "uploads"), "NUBES_BUCKET_UPLOADS");
/// assert_eq!(env_var(ResourceKind::Bucket, "raw-images.v2"), "NUBES_BUCKET_RAW_IMAGES_V2");
/// ```
pub fn env_var(kind: ResourceKind, name: &str) -> String {
    let mut var = format!("NUBES_{}_", kind.env_segment());
    var.extend(name.chars().map(|c| match c {
        '-' | '.' => '_',
        c => c.to_ascii_uppercase(),
    }));
    var
}

/// The cloud identifier of resource `name`: the value of its
/// [`env_var`] when set and not empty, else the logical name itself.
pub fn physical_name(kind: ResourceKind, name: &str) -> String {
    physical_name_from(kind, name, |var| std::env::var(var).ok())
}

/// [`physical_name`] with the environment read through `lookup` (tests,
/// adapters that hold their settings in a map).
///
/// ```
/// use nubes_core::resource::{ResourceKind, physical_name_from};
///
/// let env = |var: &str| (var == "NUBES_BUCKET_UPLOADS").then(|| "prod-uploads-7f3a".to_owned());
/// assert_eq!(physical_name_from(ResourceKind::Bucket, "uploads", env), "prod-uploads-7f3a");
/// assert_eq!(physical_name_from(ResourceKind::Bucket, "results", env), "results");
/// ```
pub fn physical_name_from(
    kind: ResourceKind,
    name: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> String {
    lookup(&env_var(kind, name))
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| name.to_owned())
}
