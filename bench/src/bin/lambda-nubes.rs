//! nubes on AWS Lambda: the benchmark router (API Gateway / Function URL
//! events) and a queue handler for the `my-queue` SQS queue of the fixtures.

use nubes::{App, Context, QueueMessage};

/// The per-message work of the queue benchmarks: look at the body, succeed.
async fn on_message(msg: QueueMessage, _ctx: Context) -> Result<(), nubes::Error> {
    std::hint::black_box(msg.bytes().len());
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), nubes::Error> {
    nubes::run(
        App::new()
            .http(nubes_bench::router())
            .on_queue("my-queue", on_message),
    )
    .await
}
