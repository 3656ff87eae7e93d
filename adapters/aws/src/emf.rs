//! Metrics as CloudWatch Embedded Metric Format: JSON log lines CloudWatch
//! turns into metrics, written at the end of every invocation (Lambda may
//! freeze the process as soon as the reply is posted).
//!
//! Spec: <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>.
//! One document per set of dimension values, each with at most 100 metrics;
//! every dimension and metric is a top-level member.
//!
//! This runs once per invocation, so the documents are written straight into
//! a reused buffer (no `serde_json::Value` tree): strings go through
//! `serde_json`'s escaping, numbers through its integer and float formatting.

use std::io::Write as _;

use nubes_core::metrics::{MetricKind, Series};

/// At most this many metrics per EMF document (CloudWatch's limit).
const MAX_METRICS: usize = 100;
/// The dimension every nubes metric carries: the Lambda function's name.
const FUNCTION: &str = "function";

/// The series sharing one set of dimension values (`function` included).
struct Group<'a> {
    /// Dimension name → value, sorted by name.
    dims: Vec<(&'a str, &'a str)>,
    members: Vec<&'a Series>,
}

/// Appends the EMF documents for `series`, stamped `timestamp_ms` (epoch
/// milliseconds), to `out`: one JSON document per line, each ending in `\n`.
pub(crate) fn write_documents(
    out: &mut Vec<u8>,
    namespace: &str,
    function: &str,
    series: &[Series],
    timestamp_ms: i64,
) {
    let function = non_empty(function);
    for group in groups(function, series) {
        // A metric named like a dimension (or twice in one document) would
        // overwrite a top-level member: keep the first, say so.
        let mut usable: Vec<&Series> = Vec::with_capacity(group.members.len());
        for s in group.members {
            let clash = s.name.is_empty()
                || s.name == "_aws"
                || group.dims.iter().any(|(k, _)| *k == s.name)
                || usable.iter().any(|u| u.name == s.name);
            if clash {
                tracing::warn!(metric = %s.name, "metric skipped: its name is empty or already used by a dimension or another metric of the same dimensions");
            } else {
                usable.push(s);
            }
        }
        for chunk in usable.chunks(MAX_METRICS) {
            write_document(out, namespace, &group.dims, chunk, timestamp_ms);
        }
    }
}

/// Groups `series` by their dimension values (`function` set to `function`),
/// in the order of those values.
fn groups<'a>(function: &'a str, series: &'a [Series]) -> Vec<Group<'a>> {
    // The `function` dimension is the same for all, so series share a
    // document exactly when their other dimensions match.
    let others = |s: &'a Series| {
        s.dimensions
            .iter()
            .filter(|(k, _)| k.as_str() != FUNCTION)
            .map(|(k, v)| (k.as_str(), non_empty(v)))
    };
    let mut groups: Vec<Group<'a>> = Vec::new();
    for s in series {
        let found = groups.iter_mut().find(|g| {
            g.dims
                .iter()
                .copied()
                .filter(|(k, _)| *k != FUNCTION)
                .eq(others(s))
        });
        match found {
            Some(group) => group.members.push(s),
            None => {
                let mut dims: Vec<(&str, &str)> = others(s).collect();
                // `dimensions` is sorted by name: keep it so with `function`.
                let at = dims.partition_point(|(k, _)| *k < FUNCTION);
                dims.insert(at, (FUNCTION, function));
                groups.push(Group {
                    dims,
                    members: vec![s],
                });
            }
        }
    }
    groups.sort_by(|a, b| a.dims.cmp(&b.dims));
    groups
}

/// Writes one EMF line to stdout in a single write, so it never interleaves
/// with log lines. `lines` ends with `\n`.
pub(crate) fn write_stdout(lines: &[u8]) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(lines);
    let _ = out.flush();
}

fn non_empty(value: &str) -> &str {
    if value.is_empty() { "unknown" } else { value }
}

fn write_document(
    out: &mut Vec<u8>,
    namespace: &str,
    dims: &[(&str, &str)],
    series: &[&Series],
    timestamp_ms: i64,
) {
    out.extend_from_slice(br#"{"_aws":{"Timestamp":"#);
    json(out, &timestamp_ms);
    out.extend_from_slice(br#","CloudWatchMetrics":[{"Namespace":"#);
    json(out, namespace);
    out.extend_from_slice(br#","Dimensions":[["#);
    for (i, (name, _)) in dims.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        json(out, *name);
    }
    out.extend_from_slice(br#"]],"Metrics":["#);
    for (i, s) in series.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(br#"{"Name":"#);
        json(out, s.name.as_str());
        out.extend_from_slice(br#","Unit":"#);
        json(out, s.unit.as_str());
        out.push(b'}');
    }
    out.extend_from_slice(b"]}]}");
    for (name, value) in dims {
        out.push(b',');
        json(out, *name);
        out.push(b':');
        json(out, *value);
    }
    for s in series {
        out.push(b',');
        json(out, s.name.as_str());
        out.push(b':');
        match s.kind {
            MetricKind::Timing if !s.stats.values.is_empty() => json(out, &s.stats.values),
            _ => json(out, &s.value()),
        }
    }
    out.extend_from_slice(b"}\n");
}

/// Appends `value` as JSON: strings escaped, numbers formatted as
/// `serde_json` does (non-finite floats become `null`).
fn json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    // Strings, integers and floats cannot fail to serialise, and a Vec
    // cannot fail to take bytes.
    let _ = serde_json::to_writer(&mut *out, value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use nubes_core::metrics::{Stats, Unit};
    use serde_json::{Value, json};

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

    fn documents(namespace: &str, function: &str, series: &[Series], ts: i64) -> Vec<Value> {
        let mut out = Vec::new();
        write_documents(&mut out, namespace, function, series, ts);
        let text = String::from_utf8(out).unwrap();
        assert!(text.is_empty() || text.ends_with('\n'), "{text}");
        text.lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
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
        assert_eq!(eu["_aws"]["Timestamp"], 1);
        assert_eq!(
            eu["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["function", "region"]])
        );
    }

    #[test]
    fn names_and_values_are_escaped_and_dimensions_sorted() {
        let mut timing = series("lat\"ency\n", &[("zone", ""), ("a\\b", "x\u{1}y")]);
        timing.kind = MetricKind::Timing;
        timing.unit = Unit::Milliseconds;
        timing.stats = Stats::of(MetricKind::Timing, 1.5);
        timing.stats.add(MetricKind::Timing, f64::NAN);
        let mut user_function = series("n", &[("function", "mine"), ("zone", "")]);
        user_function.stats = Stats::of(MetricKind::Count, 3.0);
        let docs = documents("n\"s", "", &[timing, user_function], 7);
        assert_eq!(docs.len(), 2, "{docs:?}");
        let t = docs.iter().find(|d| d.get("a\\b").is_some()).unwrap();
        assert_eq!(t["a\\b"], "x\u{1}y");
        assert_eq!(t["zone"], "unknown");
        assert_eq!(t["function"], "unknown");
        assert_eq!(t["lat\"ency\n"], json!([1.5, null]));
        assert_eq!(t["_aws"]["CloudWatchMetrics"][0]["Namespace"], "n\"s");
        assert_eq!(
            t["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["a\\b", "function", "zone"]])
        );
        assert_eq!(
            t["_aws"]["CloudWatchMetrics"][0]["Metrics"],
            json!([{ "Name": "lat\"ency\n", "Unit": "Milliseconds" }])
        );
        let u = docs.iter().find(|d| d.get("n").is_some()).unwrap();
        assert_eq!(u["function"], "unknown", "the function dimension wins");
        assert_eq!(u["n"], 3.0);
    }

    #[test]
    fn nothing_recorded_writes_nothing() {
        let mut out = Vec::new();
        write_documents(&mut out, "ns", "fn", &[], 1);
        assert!(out.is_empty());
    }
}
