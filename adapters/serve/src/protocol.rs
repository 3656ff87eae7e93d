//! Which HTTP version a new connection speaks, decided from its first bytes
//! without consuming them, within the header read timeout: a client that
//! connects and sends nothing (or only part of the HTTP/2 preface) is dropped
//! instead of being waited for forever.

use std::time::Duration;

use tokio::net::TcpStream;

/// The preface every HTTP/2 connection with prior knowledge starts with.
const H2_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The protocol of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protocol {
    Http1,
    Http2,
}

/// The connection's protocol, or `None` when it closed or sent too little
/// within `timeout` (zero: no timeout).
pub(crate) async fn detect(stream: &TcpStream, timeout: Duration) -> Option<Protocol> {
    if timeout.is_zero() {
        return peek(stream).await;
    }
    tokio::time::timeout(timeout, peek(stream))
        .await
        .ok()
        .flatten()
}

async fn peek(stream: &TcpStream) -> Option<Protocol> {
    let mut buf = [0u8; 24];
    loop {
        let n = stream.peek(&mut buf).await.ok()?;
        let seen = buf.get(..n)?;
        if n == 0 {
            return None;
        }
        if H2_PREFACE.get(..n)? != seen {
            return Some(Protocol::Http1);
        }
        if n == H2_PREFACE.len() {
            return Some(Protocol::Http2);
        }
        // Part of the preface: peek would return the same bytes at once, so
        // give the rest a moment to arrive (HTTP/2 clients send it whole).
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tokio::io::AsyncWriteExt as _;

    async fn pair() -> (TcpStream, TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        (client, server)
    }

    #[tokio::test]
    async fn versions_are_told_apart_and_silence_times_out() {
        let (mut client, server) = pair().await;
        client.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        assert_eq!(
            detect(&server, Duration::from_secs(1)).await,
            Some(Protocol::Http1)
        );
        let (mut client, server) = pair().await;
        client.write_all(H2_PREFACE).await.unwrap();
        assert_eq!(
            detect(&server, Duration::from_secs(1)).await,
            Some(Protocol::Http2)
        );
        let (mut client, server) = pair().await;
        client.write_all(b"PRI * HT").await.unwrap();
        assert_eq!(detect(&server, Duration::from_millis(100)).await, None);
        let (_client, server) = pair().await;
        assert_eq!(detect(&server, Duration::from_millis(100)).await, None);
        let (client, server) = pair().await;
        drop(client);
        assert_eq!(detect(&server, Duration::from_secs(1)).await, None);
    }
}
