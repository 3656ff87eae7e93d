//! The benchmark router served by nubes on whichever platform the
//! environment selects (`NUBES_PLATFORM=local|gcp|azure`).

#[tokio::main]
async fn main() -> Result<(), nubes::Error> {
    nubes::run(nubes::App::new().http(nubes_bench::router())).await
}
