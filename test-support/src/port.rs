//! Loopback TCP ports of the processes a test starts: a free one to hand
//! over, then waiting until the process listens on it.

use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// How often [`port_opens_within`] tries to connect.
const POLL: Duration = Duration::from_millis(10);

/// A port free on 127.0.0.1 right now: the OS picks it (bind to port 0) and
/// the listener is closed again, so the process under test can bind it.
///
/// # Panics
///
/// When no loopback port can be bound at all.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .unwrap_or_else(|e| panic!("no free port on 127.0.0.1: {e}"))
}

/// Whether something accepts TCP connections on 127.0.0.1:`port` before
/// `limit` has passed.
///
/// Blocks the calling thread (even in an async test): the awaited process
/// is another one, so there is nothing else to run meanwhile.
pub fn port_opens_within(port: u16, limit: Duration) -> bool {
    let started = Instant::now();
    loop {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        if started.elapsed() >= limit {
            return false;
        }
        std::thread::sleep(POLL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_opens_when_something_listens_and_not_before() {
        let port = free_port();
        assert!(!port_opens_within(port, Duration::from_millis(50)));
        let _listener = TcpListener::bind(("127.0.0.1", port))
            .unwrap_or_else(|e| panic!("port {port} was not free: {e}"));
        assert!(port_opens_within(port, Duration::from_secs(1)));
    }
}
