//! One measurement: name, kind, unit, value and dimensions.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Serialize;

/// At most this many dimensions per metric, the function's own included
/// (CloudWatch's limit); further dimensions are ignored.
pub const MAX_DIMENSIONS: usize = 30;

/// How samples of a metric combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricKind {
    /// Something that happened `value` times: samples add up.
    Count,
    /// A level at a point in time: the last sample wins (min and max kept).
    Gauge,
    /// A duration or other distribution: every sample counts (count, sum,
    /// min, max and up to [`MAX_VALUES`](super::MAX_VALUES) raw values).
    Timing,
}

/// The unit of a metric, named as CloudWatch names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Unit {
    /// A plain number of things.
    Count,
    /// Milliseconds (timings).
    Milliseconds,
    /// Seconds.
    Seconds,
    /// Bytes.
    Bytes,
    /// Percent.
    Percent,
    /// No unit.
    None,
}

impl Unit {
    /// CloudWatch's name of the unit (`Count`, `Milliseconds`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
            Unit::Seconds => "Seconds",
            Unit::Bytes => "Bytes",
            Unit::Percent => "Percent",
            Unit::None => "None",
        }
    }
}

/// One measurement handed to a [`MetricsSink`](super::MetricsSink).
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The metric's name, e.g. `orders_placed`.
    pub name: Cow<'static, str>,
    /// How samples combine.
    pub kind: MetricKind,
    /// The unit of `value`.
    pub unit: Unit,
    /// The measured value (milliseconds for timings).
    pub value: f64,
    /// Dimension name → value, sorted so equal sets compare equal.
    pub dimensions: BTreeMap<Cow<'static, str>, String>,
}

impl Sample {
    /// A sample without dimensions.
    pub fn new(
        name: impl Into<Cow<'static, str>>,
        kind: MetricKind,
        unit: Unit,
        value: f64,
    ) -> Self {
        Sample {
            name: name.into(),
            kind,
            unit,
            value,
            dimensions: BTreeMap::new(),
        }
    }

    /// Adds a dimension; ignored past [`MAX_DIMENSIONS`] (one is kept for
    /// the function's name).
    pub fn with_dimension(
        mut self,
        name: impl Into<Cow<'static, str>>,
        value: impl Into<String>,
    ) -> Self {
        self.add_dimension(name.into(), value.into());
        self
    }

    pub(crate) fn add_dimension(&mut self, name: Cow<'static, str>, value: String) {
        if self.dimensions.len() < MAX_DIMENSIONS - 1 || self.dimensions.contains_key(&name) {
            self.dimensions.insert(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dimensions_are_capped() {
        let mut s = Sample::new("m", MetricKind::Count, Unit::Count, 1.0);
        for i in 0..40 {
            s = s.with_dimension(format!("d{i}"), "v");
        }
        assert_eq!(s.dimensions.len(), MAX_DIMENSIONS - 1);
        let s = s.with_dimension("d0", "changed");
        assert_eq!(s.dimensions["d0"], "changed");
    }
}
