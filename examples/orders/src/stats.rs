//! Counters shared by the handlers.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Orders and revenue since the last nightly report.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    orders: AtomicU64,
    revenue_cents: AtomicI64,
}

impl Stats {
    pub(crate) fn record_order(&self, total_cents: i64) {
        self.orders.fetch_add(1, Ordering::Relaxed);
        self.revenue_cents.fetch_add(total_cents, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> serde_json::Value {
        serde_json::json!({
            "orders": self.orders.load(Ordering::Relaxed),
            "revenue_cents": self.revenue_cents.load(Ordering::Relaxed),
        })
    }

    /// The day's figures, resetting them for the next day.
    pub(crate) fn take_day(&self) -> serde_json::Value {
        serde_json::json!({
            "orders": self.orders.swap(0, Ordering::Relaxed),
            "revenue_cents": self.revenue_cents.swap(0, Ordering::Relaxed),
        })
    }
}
