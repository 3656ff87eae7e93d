//! Where echo lines go: the file named by `NUBES_ECHO_FILE`, or stdout.

use std::io::Write as _;
use std::sync::Mutex;

/// Serialises writers so concurrent handlers never interleave lines.
static LOCK: Mutex<()> = Mutex::new(());

/// Appends `line` and a newline, in one write.
pub(crate) fn append(line: &serde_json::Value) -> std::io::Result<()> {
    let mut text = line.to_string();
    text.push('\n');
    let _guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    match std::env::var_os("NUBES_ECHO_FILE") {
        Some(path) if !path.is_empty() => {
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?;
            file.write_all(text.as_bytes())
        }
        _ => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()
        }
    }
}
