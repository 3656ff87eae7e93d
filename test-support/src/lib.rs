//! Mutations of real provider payloads for the adapters' property tests
//! (`adapters/*/tests/robustness.rs`): structural ones on the parsed JSON
//! (wrong types, missing and extra fields, huge strings, invalid base64 and
//! UTF-8, deep nesting), then byte-level ones on its text (truncation, noise).
//!
//! Test-only: not published, used as a dev-dependency.

pub mod mutate;
