//! Baseline: the benchmark router on raw `lambda_http`, no nubes.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::run(nubes_bench::router()).await
}
