//! The reply to the host: `{"Outputs":{…},"Logs":[…],"ReturnValue":…}`.
//!
//! Failures carry the same shape, plus `error` (`{"kind","message"}`) for
//! people and tools reading it; the host itself looks at the status: `200`
//! completes the invocation, anything else fails it (and the trigger retries
//! or poisons the message).

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use nubes_core::Error;
use serde_json::{Map, Value};

/// One invocation reply.
#[derive(Debug)]
pub(crate) struct Reply {
    status: StatusCode,
    outputs: Map<String, Value>,
    logs: Vec<String>,
    error: Option<Value>,
}

impl Reply {
    /// A completed invocation (success, or a permanent failure already logged).
    pub(crate) fn ok(logs: Vec<String>) -> Self {
        Reply {
            status: StatusCode::OK,
            outputs: Map::new(),
            logs,
            error: None,
        }
    }

    /// A failed invocation: `status` and the error, which is also added to
    /// `Logs` unless a captured line already reported it.
    pub(crate) fn failed(status: StatusCode, err: &Error, mut logs: Vec<String>) -> Self {
        ensure_logged(&mut logs, err);
        Reply {
            status,
            outputs: Map::new(),
            logs,
            error: Some(err.to_json()["error"].clone()),
        }
    }

    /// Adds an output binding value.
    pub(crate) fn output(mut self, name: &str, value: Value) -> Self {
        self.outputs.insert(name.to_owned(), value);
        self
    }
}

/// Makes sure `err` appears in `logs` (when no subscriber captured the
/// adapter's own error line, e.g. the application installed its own).
pub(crate) fn ensure_logged(logs: &mut Vec<String>, err: &Error) {
    let message = err.message();
    if !logs.iter().any(|l| l.contains(message)) {
        logs.push(format!("ERROR {err}"));
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut body = Map::new();
        body.insert("Outputs".into(), Value::Object(self.outputs));
        body.insert(
            "Logs".into(),
            Value::Array(self.logs.into_iter().map(Value::String).collect()),
        );
        body.insert("ReturnValue".into(), Value::Null);
        if let Some(error) = self.error {
            body.insert("error".into(), error);
        }
        let mut response = (self.status, Value::Object(body).to_string()).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_added_once() {
        let err = Error::invalid_event("bad");
        let mut logs = vec!["ERROR rejected error=\"invalid event: bad\"".to_owned()];
        ensure_logged(&mut logs, &err);
        assert_eq!(logs.len(), 1);
        let mut logs = Vec::new();
        ensure_logged(&mut logs, &err);
        assert_eq!(logs, ["ERROR invalid event: bad"]);
    }
}
