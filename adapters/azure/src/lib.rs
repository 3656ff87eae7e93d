//! nubes adapter for Azure Functions (under construction).

use nubes_core::{App, Error};

/// Runs `app` on Azure Functions.
pub async fn run(app: App) -> Result<(), Error> {
    app.validate()?;
    Err(Error::config(
        "the Azure Functions adapter is under construction",
    ))
}
