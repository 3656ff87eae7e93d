//! Metrics as CloudWatch Embedded Metric Format: JSON log lines CloudWatch
//! turns into metrics, written at the end of every invocation (Lambda may
//! freeze the process as soon as the reply is posted).
//!
//! Spec: <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>.
//! One document per set of dimension values, each with at most 100 metrics;
//! every dimension and metric is a top-level member.

use std::collections::BTreeMap;

use nubes_core::metrics::{MetricKind, Series};
use serde_json::{Map, Value, json};

/// At most this many metrics per EMF document (CloudWatch's limit).
const MAX_METRICS: usize = 100;
/// The dimension every nubes metric carries: the Lambda function's name.
const FUNCTION: &str = "function";

/// The EMF documents for `series`, stamped `timestamp_ms` (epoch milliseconds).
pub(crate) fn documents(
    namespace: &str,
    function: &str,
    series: &[Series],
    timestamp_ms: i64,
) -> Vec<Value> {
    let mut groups: BTreeMap<BTreeMap<&str, &str>, Vec<&Series>> = BTreeMap::new();
    for s in series {
        let mut dims: BTreeMap<&str, &str> = s
            .dimensions
            .iter()
            .map(|(k, v)| (k.as_str(), non_empty(v)))
            .collect();
        dims.insert(FUNCTION, non_empty(function));
        groups.entry(dims).or_default().push(s);
    }
    let mut docs = Vec::new();
    for (dims, members) in groups {
        // A metric named like a dimension (or twice in one document) would
        // overwrite a top-level member: keep the first, say so.
        let mut seen: Vec<&str> = Vec::new();
        let usable: Vec<&Series> = members
            .into_iter()
            .filter(|s| {
                let clash = s.name.is_empty()
                    || s.name == "_aws"
                    || dims.contains_key(s.name.as_str())
                    || seen.contains(&s.name.as_str());
                if clash {
                    tracing::warn!(metric = %s.name, "metric skipped: its name is empty or already used by a dimension or another metric of the same dimensions");
                } else {
                    seen.push(&s.name);
                }
                !clash
            })
            .collect();
        for chunk in usable.chunks(MAX_METRICS) {
            docs.push(document(namespace, &dims, chunk, timestamp_ms));
        }
    }
    docs
}

/// Writes one EMF line to stdout in a single write, so it never interleaves
/// with log lines.
pub(crate) fn write_stdout(line: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(format!("{line}\n").as_bytes());
    let _ = out.flush();
}

fn non_empty(value: &str) -> &str {
    if value.is_empty() { "unknown" } else { value }
}

fn document(
    namespace: &str,
    dims: &BTreeMap<&str, &str>,
    series: &[&Series],
    timestamp_ms: i64,
) -> Value {
    let definitions: Vec<Value> = series
        .iter()
        .map(|s| json!({ "Name": s.name, "Unit": s.unit.as_str() }))
        .collect();
    let mut doc = Map::new();
    doc.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [dims.keys().collect::<Vec<_>>()],
                "Metrics": definitions,
            }],
        }),
    );
    for (name, value) in dims {
        doc.insert((*name).to_owned(), Value::String((*value).to_owned()));
    }
    for s in series {
        let value = match s.kind {
            MetricKind::Timing if !s.stats.values.is_empty() => json!(s.stats.values),
            _ => json!(s.value()),
        };
        doc.insert(s.name.clone(), value);
    }
    Value::Object(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nubes_core::metrics::{Stats, Unit};

    fn series(name: &str, dims: &[(&str, &str)]) -> Series {
        Series {
            name: name.into(),
            kind: MetricKind::Count,
            unit: Unit::Count,
            dimensions: dims
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            stats: Stats::of(MetricKind::Count, 2.0),
        }
    }

    #[test]
    fn documents_are_split_by_dimensions_and_size() {
        let mut all: Vec<Series> = (0..150).map(|i| series(&format!("m{i}"), &[])).collect();
        all.push(series("orders", &[("region", "eu")]));
        all.push(series("region", &[("region", "us")]));
        let docs = documents("ns", "fn", &all, 1);
        assert_eq!(
            docs.len(),
            3,
            "100 + 50 without dimensions, 1 for region=eu; the clash is skipped"
        );
        let sizes: Vec<usize> = docs
            .iter()
            .map(|d| {
                d["_aws"]["CloudWatchMetrics"][0]["Metrics"]
                    .as_array()
                    .unwrap()
                    .len()
            })
            .collect();
        assert!(sizes.iter().all(|n| *n <= MAX_METRICS), "{sizes:?}");
        assert_eq!(sizes.iter().sum::<usize>(), 151);
        let eu = docs.iter().find(|d| d["region"] == "eu").unwrap();
        assert_eq!(eu["orders"], 2.0);
        assert_eq!(eu["function"], "fn");
        assert_eq!(
            eu["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["function", "region"]])
        );
    }
}
