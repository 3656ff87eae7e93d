//! The port a child process bound: it is started with port 0 (the OS picks
//! a free one, so no other process can take it in between, unlike a port
//! chosen before the start), and says where it listens in its start-up log
//! line, e.g. `nubes local runner listening on http://127.0.0.1:41234` or a
//! JSON line with `"address":"127.0.0.1:41234"`.

use std::path::Path;
use std::time::Duration;

use crate::log_file::read_log;

/// Waits until `dir/log` has a whole line containing `marker`, and returns the
/// port of the first `127.0.0.1:<port>` in that line.
///
/// # Panics
///
/// When no such line appears within `bound` (the message holds the log), or
/// the line names no port on 127.0.0.1.
pub fn bound_port(dir: &Path, log: &str, marker: &str, bound: Duration) -> u16 {
    let mut line = None;
    let what = format!("a line with {marker:?} in {log}");
    crate::wait::until_blocking(&what, bound, || {
        // Only whole lines: the process may be halfway through writing one.
        line = read_log(dir, log)
            .split_inclusive('\n')
            .find(|l| l.ends_with('\n') && l.contains(marker))
            .map(str::to_owned);
        line.is_some()
    });
    let line = line.unwrap_or_default();
    port_in(&line).unwrap_or_else(|| panic!("no 127.0.0.1:<port> in {line:?}"))
}

/// The port of the first `127.0.0.1:<port>` in `line`.
fn port_in(line: &str) -> Option<u16> {
    const HOST: &str = "127.0.0.1:";
    let at = line.find(HOST)? + HOST.len();
    let digits: String = line[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok().filter(|port| *port != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_port_is_read_from_text_and_json_lines() {
        assert_eq!(
            port_in("nubes local runner listening on http://127.0.0.1:41234"),
            Some(41234)
        );
        assert_eq!(
            port_in(r#"{"address":"127.0.0.1:8080","message":"ready"}"#),
            Some(8080)
        );
        assert_eq!(port_in("listening on 127.0.0.1:0"), None);
        assert_eq!(port_in("no address"), None);
    }

    #[test]
    fn waits_for_the_line_the_process_writes() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("app.log");
        let writer = std::thread::spawn(move || {
            std::fs::write(&path, "starting\nready on 127.0.0.1:5005\n")
                .unwrap_or_else(|e| panic!("{e}"));
        });
        let port = bound_port(dir.path(), "app.log", "ready", Duration::from_secs(10));
        assert_eq!(port, 5005);
        let _ = writer.join();
    }
}
