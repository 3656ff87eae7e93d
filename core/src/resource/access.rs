//! What an app may do with a resource.

use std::fmt;
use std::ops::{BitOr, BitOrAssign};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A set of permissions on a resource: [`Access::READ`], [`Access::WRITE`],
/// [`Access::DELETE`], combined with `|`.
///
/// Manifests grant exactly this set; the resource handle refuses operations
/// outside it. For a bucket: `READ` = get, head, list, presigned GET;
/// `WRITE` = put, presigned PUT (and the target of a copy); `DELETE` = delete.
///
/// ```
/// use nubes_core::resource::Access;
///
/// let rw = Access::READ | Access::WRITE;
/// assert!(rw.contains(Access::READ));
/// assert!(!rw.contains(Access::DELETE));
/// assert_eq!(rw.to_string(), "read+write");
/// assert_eq!(serde_json::to_value(rw).unwrap(), serde_json::json!(["read", "write"]));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Access(u8);

impl Access {
    /// No permission at all.
    pub const NONE: Access = Access(0);
    /// Read: get, head, list (and receive, for queues).
    pub const READ: Access = Access(1);
    /// Write: put (send, publish, set).
    pub const WRITE: Access = Access(2);
    /// Delete.
    pub const DELETE: Access = Access(4);
    /// Every permission.
    pub const ALL: Access = Access(7);

    const NAMES: [(Access, &'static str); 3] = [
        (Access::READ, "read"),
        (Access::WRITE, "write"),
        (Access::DELETE, "delete"),
    ];

    /// True when every permission of `other` is in `self`.
    pub fn contains(self, other: Access) -> bool {
        self.0 & other.0 == other.0
    }

    /// True when no permission is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The permission names, in a fixed order (`read`, `write`, `delete`).
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Access::NAMES
            .into_iter()
            .filter(move |(a, _)| self.contains(*a))
            .map(|(_, n)| n)
    }

    /// The permission named `name` (`read`, `write`, `delete`).
    pub fn from_name(name: &str) -> Option<Access> {
        Access::NAMES
            .into_iter()
            .find(|(_, n)| *n == name)
            .map(|(a, _)| a)
    }
}

impl BitOr for Access {
    type Output = Access;
    fn bitor(self, rhs: Access) -> Access {
        Access(self.0 | rhs.0)
    }
}

impl BitOrAssign for Access {
    fn bitor_assign(&mut self, rhs: Access) {
        self.0 |= rhs.0;
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        f.write_str(&self.names().collect::<Vec<_>>().join("+"))
    }
}

impl fmt::Debug for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Access({self})")
    }
}

impl Serialize for Access {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.names())
    }
}

impl<'de> Deserialize<'de> for Access {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let names = Vec::<String>::deserialize(d)?;
        names.iter().try_fold(Access::NONE, |acc, name| {
            Access::from_name(name)
                .map(|a| acc | a)
                .ok_or_else(|| serde::de::Error::custom(format!("unknown access `{name}`")))
        })
    }
}
