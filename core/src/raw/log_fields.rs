//! Collecting a tracing event's fields into a JSON object: what every cloud
//! log format (CloudWatch, Cloud Logging, Azure) does before adding its own
//! keys.

use std::fmt;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};

/// A `tracing` field visitor that inserts each field into a JSON map: strings,
/// numbers and booleans as themselves, errors by their message, anything else
/// by its `Debug` text.
///
/// ```
/// use nubes_core::raw::log_fields::JsonFieldMap;
/// use serde_json::Map;
///
/// let mut fields = Map::new();
/// let _visitor = JsonFieldMap(&mut fields);
/// // In a log format: `event.record(&mut JsonFieldMap(&mut fields))`.
/// ```
pub struct JsonFieldMap<'a>(pub &'a mut Map<String, Value>);

impl Visit for JsonFieldMap<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0.insert(field.name().into(), value.to_string().into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().into(), format!("{value:?}").into());
    }
}
