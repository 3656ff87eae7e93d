//! Baseline: a raw `lambda_runtime` SQS consumer, written the way the
//! `aws_lambda_events` docs suggest: the typed batch, one handler call per
//! record, partial failures reported in an `SqsBatchResponse`.

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use lambda_runtime::{Error, LambdaEvent, service_fn};

/// The per-message work, the same as the nubes queue handler's.
async fn on_message(msg: &SqsMessage) -> Result<(), Error> {
    std::hint::black_box(msg.body.as_deref().map_or(0, str::len));
    Ok(())
}

async fn on_batch(event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, Error> {
    let mut response = SqsBatchResponse::default();
    for record in &event.payload.records {
        if on_message(record).await.is_err() {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = record.message_id.clone().unwrap_or_default();
            response.batch_item_failures.push(failure);
        }
    }
    Ok(response)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(on_batch)).await
}
