//! Test-only helpers shared by the nubes workspace's tests:
//!
//! - [`fixtures`]: the real provider payloads vendored in the repository's
//!   `fixtures/`, read by name;
//! - [`mutate`]: mutations of real provider payloads for the adapters'
//!   property tests (`adapters/*/tests/robustness.rs`): structural ones on
//!   the parsed JSON (wrong types, missing and extra fields, huge strings,
//!   invalid base64 and UTF-8, deep nesting), then byte-level ones on its
//!   text (truncation, noise);
//! - the child processes of end-to-end tests: [`bound_port`] (the port a
//!   child started on port 0 says it bound), [`port`] (a free port, waiting
//!   for it to open), [`http_ready`] (waiting until a server answers),
//!   [`process`] (process groups killed on drop, SIGTERM and waiting for the
//!   exit), [`log_file`] (their output), [`tool`] (external
//!   tools of the `#[ignore]`d peer tests: a missing one fails the test) and
//!   [`lambda_emulator`] (cargo-lambda's Runtime API emulator) and
//!   [`gcs_emulator`] (gcp-storage-emulator);
//! - [`wait`]: polling a condition with a bound, where a test cannot be
//!   signalled directly (never a fixed sleep as synchronisation);
//! - `bucket_suite` (feature `bucket-suite`): the behaviour suite every
//!   bucket backend runs against its emulator;
//! - `log_capture` (feature `log-capture`): log lines captured in memory for
//!   the observability tests.
//!
//! Setup failures panic with a clear message: a test that cannot set up
//! fails loudly. Not published, used as a dev-dependency.

pub mod bound_port;
#[cfg(feature = "bucket-suite")]
pub mod bucket_suite;
pub mod fixtures;
pub mod gcs_emulator;
pub mod http_ready;
pub mod lambda_emulator;
#[cfg(feature = "log-capture")]
pub mod log_capture;
pub mod log_file;
pub mod mutate;
pub mod port;
pub mod process;
pub mod tool;
pub mod wait;
