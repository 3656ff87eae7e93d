//! The order payload.

use serde::Deserialize;

/// An order as clients submit it.
#[derive(Debug, Deserialize)]
pub(crate) struct Order {
    pub(crate) id: String,
    pub(crate) customer: String,
    pub(crate) total_cents: i64,
}

impl Order {
    /// Business rules that retrying cannot fix.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.id.trim().is_empty() {
            return Err("order id is empty".into());
        }
        if self.total_cents <= 0 {
            return Err(format!("order {} has a non-positive total", self.id));
        }
        Ok(())
    }
}
