//! Log lines captured in memory: a `tracing_subscriber` writer that appends
//! everything to one shared buffer, which the test then reads back.

use std::io;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde_json::Value;
use tracing_subscriber::fmt::MakeWriter;

/// A shared in-memory log; clones write to and read the same buffer. Give
/// one to `with_writer` (or to a writer factory) and keep another to read.
#[derive(Clone, Debug, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    fn buffer(&self) -> MutexGuard<'_, Vec<u8>> {
        // A test that panicked while logging leaves whole lines behind.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Everything written so far.
    ///
    /// # Panics
    ///
    /// When it is not UTF-8.
    pub fn text(&self) -> String {
        String::from_utf8(self.buffer().clone())
            .unwrap_or_else(|e| panic!("the log is not UTF-8: {e}"))
    }

    /// Every line written so far, parsed as JSON.
    ///
    /// # Panics
    ///
    /// When a line is not JSON (or the log not UTF-8).
    pub fn json_lines(&self) -> Vec<Value> {
        self.text()
            .lines()
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("log line is not JSON ({e}): {line}"))
            })
            .collect()
    }

    /// Forgets what has been written so far.
    pub fn clear(&self) {
        self.buffer().clear();
    }
}

impl io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.buffer().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogCapture {
    type Writer = LogCapture;

    fn make_writer(&'a self) -> LogCapture {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    #[test]
    fn clones_share_one_buffer_of_json_lines() {
        let capture = LogCapture::default();
        let mut writer = capture.make_writer();
        writer
            .write_all(b"{\"a\":1}\n{\"b\":2}\n")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            capture.json_lines(),
            [serde_json::json!({"a": 1}), serde_json::json!({"b": 2})]
        );
        capture.clear();
        assert_eq!(capture.text(), "");
    }
}
