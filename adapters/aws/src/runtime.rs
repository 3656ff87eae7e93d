//! The Runtime API loop: fetch the next invocation, hand it to the
//! [`LambdaHandler`], post the reply or the error, repeat.
//!
//! Built on `lambda_runtime_api_client` rather than `lambda_runtime::Runtime`
//! because the latter writes each invocation's X-Ray id into the process
//! environment (`_X_AMZN_TRACE_ID`) and panics on missing environment
//! variables or headers; here every per-invocation value stays in `Context`.

use std::panic::AssertUnwindSafe;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::FutureExt as _;
use http::{Method, Request, StatusCode};
use http_body_util::BodyExt as _;
use lambda_runtime_api_client::body::Body as ApiBody;
use lambda_runtime_api_client::{PooledClient, build_request};
use nubes_core::Error;
use nubes_core::raw::panic_message;

use crate::failure::InvocationError;
use crate::{Invocation, LambdaHandler};

const NEXT: &str = "/2018-06-01/runtime/invocation/next";
/// Consecutive failures to reach the Runtime API before giving up.
const MAX_API_FAILURES: u32 = 5;

/// Serves invocations from the Runtime API at `handler`'s configured address
/// until the API goes away or the process receives SIGTERM.
pub(crate) async fn serve(handler: LambdaHandler, runtime_api: http::Uri) -> Result<(), Error> {
    let client = PooledClient::builder().with_endpoint(runtime_api).build();
    let shutdown = handler.shutdown_token().clone();
    tokio::spawn({
        let shutdown = shutdown.clone();
        async move {
            nubes_core::raw::termination_signal().await;
            shutdown.cancel();
        }
    });
    let mut failures = 0;
    loop {
        let next = tokio::select! {
            next = next_invocation(&client) => next,
            () = shutdown.cancelled() => {
                tracing::info!("shutting down");
                return Ok(());
            }
        };
        let (invocation, payload) = match next {
            Ok(next) => {
                failures = 0;
                next
            }
            Err(err) => {
                failures += 1;
                if failures >= MAX_API_FAILURES {
                    return Err(err);
                }
                tracing::warn!(error = %err, "Runtime API unreachable; retrying");
                tokio::time::sleep(Duration::from_millis(100 * u64::from(failures))).await;
                continue;
            }
        };
        if invocation.request_id.is_empty() {
            // Emulators answer 204 with no invocation to keep the poll alive.
            if !payload.is_empty() {
                tracing::error!(
                    "the Runtime API sent an invocation without a request id; it cannot be answered"
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        }
        let reply = AssertUnwindSafe(handler.handle(payload, &invocation))
            .catch_unwind()
            .await
            .unwrap_or_else(|panic| {
                Err(InvocationError::internal(format!(
                    "nubes panicked: {}",
                    panic_message(panic.as_ref())
                )))
            });
        if let Err(err) = post_reply(&client, &invocation.request_id, reply).await {
            tracing::error!(error = %err, requestId = %invocation.request_id, "could not deliver the invocation's reply");
        }
    }
}

async fn next_invocation(client: &PooledClient) -> Result<(Invocation, Bytes), Error> {
    let request = build_request()
        .method(Method::GET)
        .uri(NEXT)
        .body(ApiBody::empty())
        .map_err(|e| Error::platform(format!("building the /next request: {e}")))?;
    let response = client
        .call(request)
        .await
        .map_err(|e| Error::platform(format!("Runtime API /next failed: {e}")))?;
    let (parts, body) = response.into_parts();
    if !parts.status.is_success() {
        return Err(Error::platform(format!(
            "Runtime API /next answered {}",
            parts.status
        )));
    }
    let invocation = Invocation::from_headers(&parts.headers, SystemTime::now());
    let payload = body
        .collect()
        .await
        .map_err(|e| Error::platform(format!("reading the invocation payload: {e}")))?
        .to_bytes();
    Ok((invocation, payload))
}

/// Posts the reply; a response Lambda refuses (too large) is reported as an error instead.
async fn post_reply(
    client: &PooledClient,
    request_id: &str,
    reply: Result<Vec<u8>, InvocationError>,
) -> Result<(), Error> {
    let status = match reply {
        Ok(body) => {
            let status = post(
                client,
                &format!("/2018-06-01/runtime/invocation/{request_id}/response"),
                body,
                None,
            )
            .await?;
            if status != StatusCode::PAYLOAD_TOO_LARGE {
                return check(status);
            }
            let err = InvocationError::internal("the reply exceeds Lambda's response size limit");
            post(
                client,
                &error_path(request_id),
                err.to_json(),
                Some(err.error_type()),
            )
            .await?
        }
        Err(err) => {
            post(
                client,
                &error_path(request_id),
                err.to_json(),
                Some(err.error_type()),
            )
            .await?
        }
    };
    check(status)
}

fn error_path(request_id: &str) -> String {
    format!("/2018-06-01/runtime/invocation/{request_id}/error")
}

fn check(status: StatusCode) -> Result<(), Error> {
    if status.is_success() {
        Ok(())
    } else {
        Err(Error::platform(format!(
            "the Runtime API answered {status}"
        )))
    }
}

async fn post(
    client: &PooledClient,
    path: &str,
    body: Vec<u8>,
    error_type: Option<&str>,
) -> Result<StatusCode, Error> {
    let mut builder = build_request().method(Method::POST).uri(path);
    if let Some(error_type) = error_type {
        builder = builder.header("lambda-runtime-function-error-type", error_type);
    }
    let request: Request<ApiBody> = builder
        .body(ApiBody::from(body))
        .map_err(|e| Error::platform(format!("building the request to {path}: {e}")))?;
    let response = client
        .call(request)
        .await
        .map_err(|e| Error::platform(format!("Runtime API {path} failed: {e}")))?;
    Ok(response.status())
}

/// Reports a startup failure to `/runtime/init/error`, so Lambda shows it.
pub(crate) async fn report_init_error(runtime_api: http::Uri, err: &Error) {
    let client = PooledClient::builder().with_endpoint(runtime_api).build();
    let err = InvocationError::from(Error::new(err.kind(), err.message()));
    if let Err(e) = post(
        &client,
        "/2018-06-01/runtime/init/error",
        err.to_json(),
        Some(err.error_type()),
    )
    .await
    {
        tracing::error!(error = %e, "could not report the startup error to Lambda");
    }
}
