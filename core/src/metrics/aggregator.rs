//! The in-process aggregator every adapter installs as its sink.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::TriggerKind;

use super::automatic::{COLD_START, DURATION, ERRORS, INVOCATIONS, millis};
use super::{MetricKind, MetricsSink, Sample, Series, Stats, Unit};

/// At most this many custom series (and as many triggers per kind) are kept
/// between drains, so a dimension with unbounded values cannot exhaust
/// memory; further samples are counted in `nubes_metrics_dropped`.
const MAX_SERIES: usize = 1000;

type SeriesKey = (
    Cow<'static, str>,
    MetricKind,
    Unit,
    BTreeMap<Cow<'static, str>, String>,
);

/// Keeps one [`Series`] per metric and dimension set until the adapter
/// [drains](Aggregator::drain) it (or takes a [snapshot](Aggregator::snapshot)).
///
/// Event invocations take a short lock on a per-kind map keyed by trigger
/// name (no allocation once the trigger has been seen). HTTP requests take no
/// lock at all: [`record_invocation`](MetricsSink::record_invocation) for
/// [`TriggerKind::Http`] is two relaxed atomic additions plus three atomic
/// loads (cold-start flag, min, max; a compare-and-swap only when a new
/// minimum or maximum is seen).
#[derive(Debug)]
pub struct Aggregator {
    custom: Mutex<HashMap<SeriesKey, Stats>>,
    /// Queue, storage and schedule invocations by trigger name.
    events: [Mutex<HashMap<String, InvocationStats>>; 3],
    http: HttpStats,
    cold: AtomicBool,
    dropped: AtomicU64,
}

/// Invocations of one event trigger.
#[derive(Debug, Clone)]
struct InvocationStats {
    count: u64,
    errors: u64,
    cold_starts: u64,
    duration: Stats,
}

/// HTTP requests, as atomics.
#[derive(Debug)]
struct HttpStats {
    count: AtomicU64,
    sum_micros: AtomicU64,
    errors: AtomicU64,
    min_micros: AtomicU64,
    max_micros: AtomicU64,
    cold_starts: AtomicU64,
}

impl Default for Aggregator {
    fn default() -> Self {
        Aggregator::new()
    }
}

impl Aggregator {
    /// An empty aggregator; the next invocation it records is the cold start.
    pub fn new() -> Self {
        Aggregator {
            custom: Mutex::default(),
            events: Default::default(),
            http: HttpStats {
                count: AtomicU64::new(0),
                sum_micros: AtomicU64::new(0),
                errors: AtomicU64::new(0),
                min_micros: AtomicU64::new(u64::MAX),
                max_micros: AtomicU64::new(0),
                cold_starts: AtomicU64::new(0),
            },
            cold: AtomicBool::new(true),
            dropped: AtomicU64::new(0),
        }
    }

    /// Everything recorded since the last drain, and resets. Series appear
    /// only when something was recorded for them.
    pub fn drain(&self) -> Vec<Series> {
        self.collect(true)
    }

    /// Everything recorded since the last drain, without resetting.
    pub fn snapshot(&self) -> Vec<Series> {
        self.collect(false)
    }

    /// `true` exactly once: for the first invocation recorded.
    fn take_cold(&self) -> bool {
        self.cold.load(Ordering::Relaxed) && self.cold.swap(false, Ordering::Relaxed)
    }

    fn collect(&self, reset: bool) -> Vec<Series> {
        let mut out = Vec::new();
        self.collect_http(reset, &mut out);
        for (kind, map) in EVENT_KINDS.iter().zip(&self.events) {
            let mut map = map.lock().unwrap_or_else(PoisonError::into_inner);
            let taken = if reset {
                std::mem::take(&mut *map)
            } else {
                map.clone()
            };
            drop(map);
            for (trigger, stats) in taken {
                invocation_series(*kind, &trigger, &stats, &mut out);
            }
        }
        let mut custom = self.custom.lock().unwrap_or_else(PoisonError::into_inner);
        let taken = if reset {
            std::mem::take(&mut *custom)
        } else {
            custom.clone()
        };
        drop(custom);
        out.extend(
            taken
                .into_iter()
                .map(|((name, kind, unit, dims), stats)| Series {
                    name: name.into_owned(),
                    kind,
                    unit,
                    dimensions: dims.into_iter().map(|(k, v)| (k.into_owned(), v)).collect(),
                    stats,
                }),
        );
        let dropped = if reset {
            self.dropped.swap(0, Ordering::Relaxed)
        } else {
            self.dropped.load(Ordering::Relaxed)
        };
        if dropped > 0 {
            out.push(Series {
                name: "nubes_metrics_dropped".into(),
                kind: MetricKind::Count,
                unit: Unit::Count,
                dimensions: BTreeMap::new(),
                stats: counted(dropped, dropped),
            });
        }
        out
    }

    fn collect_http(&self, reset: bool, out: &mut Vec<Series>) {
        let h = &self.http;
        let read = |a: &AtomicU64, zero: u64| {
            if reset {
                a.swap(zero, Ordering::Relaxed)
            } else {
                a.load(Ordering::Relaxed)
            }
        };
        let count = read(&h.count, 0);
        let sum = read(&h.sum_micros, 0);
        let errors = read(&h.errors, 0);
        let min = read(&h.min_micros, u64::MAX);
        let max = read(&h.max_micros, 0);
        let cold_starts = read(&h.cold_starts, 0);
        if count == 0 {
            return;
        }
        #[allow(clippy::cast_precision_loss)] // microsecond totals stay far below 2^52
        let ms = |us: u64| us as f64 / 1000.0;
        let duration = Stats {
            count,
            sum: ms(sum),
            min: ms(min.min(max)),
            max: ms(max),
            last: ms(max),
            values: Vec::new(),
        };
        let stats = InvocationStats {
            count,
            errors,
            cold_starts,
            duration,
        };
        invocation_series(TriggerKind::Http, "http", &stats, out);
    }

    fn record_http(&self, failed: bool, elapsed: Duration) {
        let h = &self.http;
        let us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        if self.cold.load(Ordering::Relaxed) && self.take_cold() {
            h.cold_starts.fetch_add(1, Ordering::Relaxed);
        }
        h.count.fetch_add(1, Ordering::Relaxed);
        h.sum_micros.fetch_add(us, Ordering::Relaxed);
        if failed {
            h.errors.fetch_add(1, Ordering::Relaxed);
        }
        // Loads first: the read-modify-write only happens for a new extreme.
        if us < h.min_micros.load(Ordering::Relaxed) {
            h.min_micros.fetch_min(us, Ordering::Relaxed);
        }
        if us > h.max_micros.load(Ordering::Relaxed) {
            h.max_micros.fetch_max(us, Ordering::Relaxed);
        }
    }
}

const EVENT_KINDS: [TriggerKind; 3] = [
    TriggerKind::Queue,
    TriggerKind::Storage,
    TriggerKind::Schedule,
];

fn event_index(kind: TriggerKind) -> usize {
    match kind {
        TriggerKind::Storage => 1,
        TriggerKind::Schedule => 2,
        _ => 0,
    }
}

/// Count-style stats: `count` samples adding up to `sum`.
fn counted(count: u64, sum: u64) -> Stats {
    #[allow(clippy::cast_precision_loss)] // counts stay far below 2^52
    let sum = sum as f64;
    Stats {
        count,
        sum,
        min: 0.0,
        max: sum,
        last: sum,
        values: Vec::new(),
    }
}

fn invocation_series(
    kind: TriggerKind,
    trigger: &str,
    stats: &InvocationStats,
    out: &mut Vec<Series>,
) {
    let dimensions: BTreeMap<String, String> = [
        ("kind".to_owned(), kind.as_str().to_owned()),
        ("trigger".to_owned(), trigger.to_owned()),
    ]
    .into();
    let series = |name: &str, kind: MetricKind, unit: Unit, stats: Stats| Series {
        name: name.to_owned(),
        kind,
        unit,
        dimensions: dimensions.clone(),
        stats,
    };
    out.push(series(
        INVOCATIONS,
        MetricKind::Count,
        Unit::Count,
        counted(stats.count, stats.count),
    ));
    out.push(series(
        ERRORS,
        MetricKind::Count,
        Unit::Count,
        counted(stats.count, stats.errors),
    ));
    out.push(series(
        DURATION,
        MetricKind::Timing,
        Unit::Milliseconds,
        stats.duration.clone(),
    ));
    if stats.cold_starts > 0 {
        out.push(series(
            COLD_START,
            MetricKind::Count,
            Unit::Count,
            counted(stats.cold_starts, stats.cold_starts),
        ));
    }
}

impl MetricsSink for Aggregator {
    fn record(&self, sample: Sample) {
        let mut custom = self.custom.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (sample.name, sample.kind, sample.unit, sample.dimensions);
        if let Some(stats) = custom.get_mut(&key) {
            stats.add(key.1, sample.value);
        } else if custom.len() < MAX_SERIES {
            custom.insert(key.clone(), Stats::of(key.1, sample.value));
        } else {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn record_invocation(&self, kind: TriggerKind, trigger: &str, failed: bool, elapsed: Duration) {
        if kind == TriggerKind::Http {
            return self.record_http(failed, elapsed);
        }
        let cold = self.take_cold();
        let ms = millis(elapsed);
        let mut map = self.events[event_index(kind)]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if !map.contains_key(trigger) {
            if map.len() >= MAX_SERIES {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                return;
            }
            let empty = InvocationStats {
                count: 0,
                errors: 0,
                cold_starts: 0,
                duration: Stats {
                    count: 0,
                    sum: 0.0,
                    min: ms,
                    max: ms,
                    last: ms,
                    values: Vec::new(),
                },
            };
            map.insert(trigger.to_owned(), empty);
        }
        let Some(stats) = map.get_mut(trigger) else {
            return;
        };
        stats.count += 1;
        stats.errors += u64::from(failed);
        stats.cold_starts += u64::from(cold);
        stats.duration.add(MetricKind::Timing, ms);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find<'a>(series: &'a [Series], name: &str, trigger: &str) -> Option<&'a Series> {
        series.iter().find(|s| {
            s.name == name && s.dimensions.get("trigger").map(String::as_str) == Some(trigger)
        })
    }

    #[test]
    fn invocations_errors_durations_and_one_cold_start() {
        let agg = Aggregator::new();
        agg.record_invocation(
            TriggerKind::Queue,
            "orders",
            false,
            Duration::from_millis(10),
        );
        agg.record_invocation(
            TriggerKind::Queue,
            "orders",
            true,
            Duration::from_millis(30),
        );
        agg.record_invocation(TriggerKind::Http, "http", false, Duration::from_millis(2));
        agg.record_invocation(TriggerKind::Http, "http", true, Duration::from_millis(4));
        let series = agg.snapshot();
        let inv = find(&series, INVOCATIONS, "orders").unwrap();
        assert_eq!(inv.value(), 2.0);
        assert_eq!(inv.dimensions["kind"], "queue");
        assert_eq!(find(&series, ERRORS, "orders").unwrap().value(), 1.0);
        let d = find(&series, DURATION, "orders").unwrap();
        assert_eq!((d.stats.count, d.stats.min, d.stats.max), (2, 10.0, 30.0));
        assert_eq!(d.stats.values, [10.0, 30.0]);
        assert_eq!(find(&series, COLD_START, "orders").unwrap().value(), 1.0);
        assert!(find(&series, COLD_START, "http").is_none());
        assert_eq!(find(&series, INVOCATIONS, "http").unwrap().value(), 2.0);
        assert_eq!(find(&series, ERRORS, "http").unwrap().value(), 1.0);
        let d = find(&series, DURATION, "http").unwrap();
        assert_eq!((d.stats.min, d.stats.max, d.value()), (2.0, 4.0, 3.0));
        // A snapshot keeps, a drain resets.
        assert_eq!(agg.snapshot().len(), series.len());
        assert_eq!(agg.drain().len(), series.len());
        assert!(agg.drain().is_empty());
        agg.record_invocation(TriggerKind::Http, "http", false, Duration::ZERO);
        assert!(
            find(&agg.drain(), COLD_START, "http").is_none(),
            "cold start only once"
        );
    }

    #[test]
    fn series_are_bounded() {
        let agg = Aggregator::new();
        for i in 0..MAX_SERIES + 5 {
            agg.record(
                Sample::new("m", MetricKind::Count, Unit::Count, 1.0)
                    .with_dimension("id", i.to_string()),
            );
        }
        let series = agg.drain();
        assert_eq!(series.len(), MAX_SERIES + 1);
        let dropped = series
            .iter()
            .find(|s| s.name == "nubes_metrics_dropped")
            .unwrap();
        assert_eq!(dropped.value(), 5.0);
    }

    #[test]
    fn concurrent_http_recording_loses_nothing() {
        let agg = std::sync::Arc::new(Aggregator::new());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let agg = agg.clone();
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        agg.record_invocation(
                            TriggerKind::Http,
                            "http",
                            false,
                            Duration::from_micros(5),
                        );
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let series = agg.drain();
        assert_eq!(find(&series, INVOCATIONS, "http").unwrap().value(), 4000.0);
        assert_eq!(find(&series, COLD_START, "http").unwrap().value(), 1.0);
    }
}
