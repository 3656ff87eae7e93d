//! What the aggregator keeps per metric: one series per name + dimensions.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{MetricKind, Unit};

/// At most this many raw values are kept per timing series (CloudWatch EMF
/// accepts up to 100 values per metric); count, sum, min and max still see
/// every sample.
pub const MAX_VALUES: usize = 100;

/// The combined samples of one series.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// Number of samples.
    pub count: u64,
    /// Sum of the values.
    pub sum: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// The latest value.
    pub last: f64,
    /// The first [`MAX_VALUES`] raw values of a timing (empty for other kinds).
    pub values: Vec<f64>,
}

impl Stats {
    /// Stats of a single sample.
    pub fn of(kind: MetricKind, value: f64) -> Self {
        Stats {
            count: 1,
            sum: value,
            min: value,
            max: value,
            last: value,
            values: if kind == MetricKind::Timing {
                vec![value]
            } else {
                Vec::new()
            },
        }
    }

    /// Adds one sample.
    pub fn add(&mut self, kind: MetricKind, value: f64) {
        self.count += 1;
        self.sum += value;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        self.last = value;
        if kind == MetricKind::Timing && self.values.len() < MAX_VALUES {
            self.values.push(value);
        }
    }
}

/// One metric with one set of dimension values, and its combined samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The metric's name.
    pub name: String,
    /// How its samples combine.
    pub kind: MetricKind,
    /// Its unit.
    pub unit: Unit,
    /// Dimension name → value.
    pub dimensions: BTreeMap<String, String>,
    /// The combined samples.
    pub stats: Stats,
}

impl Series {
    /// The single number that stands for the series: the total of a count,
    /// the last value of a gauge, the mean of a timing.
    pub fn value(&self) -> f64 {
        match self.kind {
            MetricKind::Count => self.stats.sum,
            MetricKind::Gauge => self.stats.last,
            MetricKind::Timing if self.stats.count == 0 => 0.0,
            #[allow(clippy::cast_precision_loss)] // counts stay far below 2^52
            MetricKind::Timing => self.stats.sum / self.stats.count as f64,
        }
    }

    /// The series as a JSON object: `name`, `kind`, `unit`, `dimensions`,
    /// `value`, `count`, `sum`, `min`, `max`.
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "kind": self.kind,
            "unit": self.unit.as_str(),
            "dimensions": self.dimensions,
            "value": self.value(),
            "count": self.stats.count,
            "sum": self.stats.sum,
            "min": self.stats.min,
            "max": self.stats.max,
        })
    }
}

/// `{"metrics":[…]}` with each series as [`Series::to_json`] gives it: the
/// body of `GET /_nubes/metrics` and of the GCP / Azure metric log entries.
pub fn summary_json(series: &[Series]) -> Value {
    json!({ "metrics": series.iter().map(Series::to_json).collect::<Vec<_>>() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_combine_by_kind() {
        let mut t = Stats::of(MetricKind::Timing, 4.0);
        t.add(MetricKind::Timing, 2.0);
        assert_eq!(
            (t.count, t.sum, t.min, t.max, t.last),
            (2, 6.0, 2.0, 4.0, 2.0)
        );
        assert_eq!(t.values, [4.0, 2.0]);
        let mut c = Stats::of(MetricKind::Count, 1.0);
        for _ in 0..200 {
            c.add(MetricKind::Count, 1.0);
        }
        assert!(c.values.is_empty());
        let mut many = Stats::of(MetricKind::Timing, 1.0);
        for _ in 0..200 {
            many.add(MetricKind::Timing, 1.0);
        }
        assert_eq!(many.values.len(), MAX_VALUES);
        assert_eq!(many.count, 201);
    }
}
