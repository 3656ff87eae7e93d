//! nubes adapter for AWS Lambda: one function serves every trigger of an
//! [`App`].
//!
//! Each invocation's JSON is classified once and mapped onto the neutral API:
//!
//! | AWS event | becomes |
//! |---|---|
//! | API Gateway REST (v1), HTTP API (v2), ALB, Function URL | an `http::Request` for the app's service; the response goes back in the caller's shape |
//! | SQS batch | one [`QueueMessage`](nubes_core::QueueMessage) per record (trigger = queue name); reply `{"batchItemFailures":[…]}` |
//! | SNS notification | a `QueueMessage` (trigger = topic name) |
//! | S3 notification, EventBridge S3 event, S3 notification inside an SQS body | a [`StorageEvent`](nubes_core::StorageEvent) (trigger = bucket name) |
//! | EventBridge `Scheduled Event` | a [`ScheduledEvent`](nubes_core::ScheduledEvent) (trigger = rule name) |
//!
//! Anything else, and any event for an unregistered trigger, is reported to
//! Lambda as failed (an `errorType` starting with `Nubes.`), so it is retried
//! or dead-lettered rather than lost. The AWS SAM template that wires every
//! trigger to the function is deploy-time code: `nubes-deploy` generates it.

mod classify;
mod config;
mod emf;
mod failure;
#[doc(hidden)]
pub mod fuzzing;
mod handler;
mod http;
mod invocation;
mod logging;
mod runtime;
mod s3;
mod schedule;
mod sns;
mod sqs;
mod storage;

pub use config::AwsConfig;
pub use failure::InvocationError;
pub use handler::LambdaHandler;
pub use invocation::Invocation;
pub use logging::{json_subscriber, text_subscriber};

use nubes_core::{App, Error};

/// Runs `app` as an AWS Lambda function: reads the environment, installs the
/// CloudWatch log format (unless a subscriber is set) and serves invocations
/// from the Runtime API until Lambda stops the process.
pub async fn run(app: App) -> Result<(), Error> {
    logging::init(|name| std::env::var(name).ok());
    let config = match AwsConfig::from_env() {
        Ok(config) => config,
        Err(err) => {
            // Tell Lambda why, when there is a Runtime API to tell.
            if let Some(api) = std::env::var("AWS_LAMBDA_RUNTIME_API")
                .ok()
                .and_then(|v| config::parse_runtime_api(&v).ok())
            {
                runtime::report_init_error(api, &err).await;
            }
            return Err(err);
        }
    };
    let runtime_api = config.runtime_api.clone();
    let handler = match LambdaHandler::new(app, config) {
        Ok(handler) => handler,
        Err(err) => {
            runtime::report_init_error(runtime_api, &err).await;
            return Err(err);
        }
    };
    runtime::serve(handler, runtime_api).await
}
