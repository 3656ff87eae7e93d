//! nubes adapter for AWS Lambda (under construction).

use nubes_core::{App, Error};

/// Runs `app` on AWS Lambda.
pub async fn run(app: App) -> Result<(), Error> {
    app.validate()?;
    Err(Error::config(
        "the AWS Lambda adapter is under construction",
    ))
}
