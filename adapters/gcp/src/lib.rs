//! nubes adapter for Google Cloud Run (under construction).

use nubes_core::{App, Error};

/// Runs `app` on Google Cloud Run.
pub async fn run(app: App) -> Result<(), Error> {
    app.validate()?;
    Err(Error::config(
        "the Google Cloud Run adapter is under construction",
    ))
}
