//! Raw-socket probes of the server's limits, shared by the adapters' tests
//! (feature `testing`). They talk bytes, not a client library, so they can
//! misbehave the way slow or hostile clients do.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test support: a failed probe fails the test.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// What a probe saw.
#[derive(Debug)]
pub struct Exchange {
    /// Everything the server sent.
    pub text: String,
    /// The status code of the first response, if one came.
    pub status: Option<u16>,
    /// Whether the server closed (or reset) the connection.
    pub closed: bool,
    /// From the end of sending to the end of reading.
    pub elapsed: Duration,
}

impl Exchange {
    /// The body of the response (after the blank line).
    pub fn body(&self) -> &str {
        self.text.split_once("\r\n\r\n").map_or("", |(_, b)| b)
    }
}

/// Connects to `addr`, sends `bytes` and reads until the server closes the
/// connection or `read_for` has passed, without sending anything more.
pub async fn exchange(addr: SocketAddr, bytes: &[u8], read_for: Duration) -> Exchange {
    let mut stream = TcpStream::connect(addr).await.expect("connecting");
    stream.write_all(bytes).await.expect("sending");
    let started = Instant::now();
    let mut seen = Vec::new();
    let mut buf = [0u8; 8192];
    let mut closed = false;
    let until = tokio::time::Instant::now() + read_for;
    loop {
        match tokio::time::timeout_at(until, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                closed = true;
                break;
            }
            Ok(Ok(n)) => seen.extend_from_slice(&buf[..n]),
            Err(_) => break,
        }
    }
    let text = String::from_utf8_lossy(&seen).into_owned();
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok());
    Exchange {
        text,
        status,
        closed,
        elapsed: started.elapsed(),
    }
}

/// Checks the server at `addr` enforces a body limit of `limit` bytes and a
/// header read timeout of `header_timeout` on `method path`: an oversize
/// `Content-Length` is refused at once, a chunked body past the limit is
/// refused even though the client then stalls, and a client that stalls in
/// its headers (or sends nothing, or stops after some whole requests on a
/// keep-alive connection) is disconnected after the timeout. Panics
/// with the evidence when one does not hold; returns what each probe took.
pub async fn check_limits(
    addr: SocketAddr,
    method: &str,
    path: &str,
    limit: u64,
    header_timeout: Duration,
) -> LimitFigures {
    let slack = Duration::from_secs(3);
    // 1. A declared length over the limit: 413 without sending the body.
    let head = format!(
        "{method} {path} HTTP/1.1\r\nhost: test\r\ncontent-type: application/octet-stream\r\ncontent-length: {}\r\n\r\n",
        limit + 1
    );
    let declared = exchange(addr, head.as_bytes(), slack).await;
    assert_eq!(
        declared.status,
        Some(413),
        "{method} {path} with content-length: {declared:?}"
    );
    assert_json_error(&declared);
    assert!(
        declared.closed,
        "the connection closes after a 413: {declared:?}"
    );
    // 2. A chunked body one byte over the limit, then silence: 413 anyway.
    let mut chunked = format!(
        "{method} {path} HTTP/1.1\r\nhost: test\r\ncontent-type: application/octet-stream\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n",
        limit + 1
    )
    .into_bytes();
    chunked.extend(std::iter::repeat_n(b'x', (limit + 1) as usize));
    chunked.extend_from_slice(b"\r\n");
    let streamed = exchange(addr, &chunked, slack).await;
    assert_eq!(
        streamed.status,
        Some(413),
        "{method} {path} chunked: {streamed:?}"
    );
    assert_json_error(&streamed);
    // 3. Half a request line, then silence: disconnected after the timeout.
    let half = exchange(addr, b"GET / HT", header_timeout + slack).await;
    assert!(
        half.closed && half.status.is_none(),
        "stalled headers: {half:?}"
    );
    assert!(
        half.elapsed + Duration::from_millis(50) >= header_timeout,
        "closed before the timeout: {half:?}"
    );
    // 4. Nothing at all: disconnected too.
    let silent = exchange(addr, b"", header_timeout + slack).await;
    assert!(silent.closed, "silent client: {silent:?}");
    // 5. Two whole requests on a keep-alive connection, then half a third:
    //    both answered, then disconnected after the timeout (every head of a
    //    connection gets the full time, however many came before).
    let whole = "GET / HTTP/1.1\r\nhost: test\r\n\r\n";
    let kept = exchange(
        addr,
        format!("{whole}{whole}GET / HT").as_bytes(),
        header_timeout + slack,
    )
    .await;
    assert!(
        kept.closed && kept.text.matches("HTTP/1.1 ").count() == 2,
        "keep-alive, then stalled headers: {kept:?}"
    );
    assert!(
        kept.elapsed + Duration::from_millis(50) >= header_timeout,
        "keep-alive connection closed before the timeout: {kept:?}"
    );
    LimitFigures {
        declared: declared.elapsed,
        streamed: streamed.elapsed,
        stalled_headers: half.elapsed,
        silent: silent.elapsed,
    }
}

/// Checks the server at `addr` answers `method path` with a malformed chunked
/// body (chunk sizes `zz`, `-1`, and `ffff…ff`, past 64 bits) with `400` and a
/// JSON `invalid_event` error: broken framing is the client's error, never the
/// platform's. Panics with the evidence when it does not.
pub async fn check_malformed_chunks(addr: SocketAddr, method: &str, path: &str) {
    let oversized = "f".repeat(40);
    for size in ["zz", "-1", oversized.as_str()] {
        let request = format!(
            "{method} {path} HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\n\
             transfer-encoding: chunked\r\n\r\n{size}\r\n{{}}\r\n0\r\n\r\n"
        );
        let seen = exchange(addr, request.as_bytes(), Duration::from_secs(3)).await;
        assert_eq!(
            seen.status,
            Some(400),
            "{method} {path} with chunk size `{size}`: {seen:?}"
        );
        assert_json_error(&seen);
        assert!(
            seen.body().contains("\"invalid_event\""),
            "{method} {path} with chunk size `{size}`: {seen:?}"
        );
    }
}

/// How long each probe of [`check_limits`] took to be answered or dropped.
#[derive(Debug, Clone, Copy)]
pub struct LimitFigures {
    /// Oversize `Content-Length` → 413.
    pub declared: Duration,
    /// Chunked body past the limit → 413.
    pub streamed: Duration,
    /// Half a request line → closed.
    pub stalled_headers: Duration,
    /// No bytes → closed.
    pub silent: Duration,
}

fn assert_json_error(exchange: &Exchange) {
    let lower = exchange.text.to_ascii_lowercase();
    assert!(
        lower.contains("content-type: application/json"),
        "JSON error: {exchange:?}"
    );
    assert!(
        exchange.body().contains("\"error\""),
        "JSON error body: {exchange:?}"
    );
}
