//! HTTP events: map the request, serve it with the app, answer in the caller's shape.

mod header_map;
mod request;
mod response;
mod v2;

use aws_lambda_events::alb::AlbTargetGroupRequest;
use aws_lambda_events::apigw::ApiGatewayProxyRequest;
use bytes::Bytes;
use http::{Request, StatusCode};
use nubes_core::raw::{AppDispatch as _, json_error};
use nubes_core::{Body, Error, ErrorKind, TraceContext, TriggerKind};
use serde::de::DeserializeOwned;

use crate::classify::{Probe, Source};
use crate::failure::InvocationError;
use crate::handler::Scope;
use request::HeaderStyle;

fn parse<T: DeserializeOwned>(payload: &[u8], what: &str) -> Result<T, InvocationError> {
    serde_json::from_slice(payload)
        .map_err(|e| InvocationError::invalid_event(format!("{what} event is malformed: {e}")))
}

/// The request of an HTTP event, and how its caller wants headers back.
/// `probe` is the payload's classification (HTTP API 2.0 events are decoded
/// from it, without a second scan).
pub(crate) fn decode(
    payload: &Bytes,
    source: Source,
    probe: &Probe<'_>,
) -> Result<(Request<Body>, HeaderStyle), InvocationError> {
    Ok(match source {
        Source::RestV1 => (
            request::from_rest_v1(parse::<ApiGatewayProxyRequest>(
                payload,
                "API Gateway REST",
            )?)?,
            HeaderStyle::Multi,
        ),
        Source::Alb => request::from_alb(parse::<AlbTargetGroupRequest>(payload, "ALB")?)?,
        _ => (v2::request(payload, probe)?, HeaderStyle::Single),
    })
}

/// Serves one HTTP event. A malformed event is an invocation error; anything
/// the app does (errors, panics, running past the deadline) is an HTTP answer.
pub(crate) async fn handle(
    scope: &Scope<'_>,
    source: Source,
    probe: &Probe<'_>,
) -> Result<Vec<u8>, InvocationError> {
    let (mut request, style) = decode(scope.payload, source, probe)?;
    // Lambda's own X-Ray id names this invocation in CloudWatch and X-Ray; a
    // caller's header is the next best thing.
    let from_lambda = scope
        .invocation
        .xray_trace_id
        .as_deref()
        .and_then(TraceContext::from_xray);
    let trace = from_lambda
        .or_else(|| TraceContext::from_headers(request.headers()))
        .unwrap_or_else(|| scope.trace.clone());
    let ctx = scope.context_traced(TriggerKind::Http, "http", 1, scope.raw_all(), trace);
    // Lambda specifics (invoked ARN, deadline, X-Ray header) for handlers
    // that want them: `Extension<nubes_aws::Invocation>`.
    request.extensions_mut().insert(scope.invocation.clone());
    let response = match scope
        .before_deadline(scope.app().dispatch_http(request, ctx))
        .await
    {
        Some(response) => response,
        None => {
            let err = Error::new(
                ErrorKind::Handler,
                "the HTTP handler did not answer before the Lambda deadline",
            );
            tracing::error!(error = %err, "HTTP request timed out");
            json_error(StatusCode::GATEWAY_TIMEOUT, &err)
        }
    };
    Ok(response::encode(response, source, style, scope.config().max_body_bytes).await)
}
