//! Waiting until a server a test started answers HTTP: an open port is not
//! enough when the test's first request must be served.

use std::time::{Duration, Instant};

/// How often [`answers_within`] tries again.
const POLL: Duration = Duration::from_millis(20);

/// Whether a `GET url` gets any HTTP response (whatever its status) before
/// `limit` has passed.
pub async fn answers_within(http: &reqwest::Client, url: &str, limit: Duration) -> bool {
    let started = Instant::now();
    loop {
        if http.get(url).send().await.is_ok() {
            return true;
        }
        if started.elapsed() >= limit {
            return false;
        }
        tokio::time::sleep(POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::port::free_port;

    #[tokio::test]
    async fn a_server_answers_once_it_serves_and_not_before() {
        let http = reqwest::Client::new();
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}/");
        assert!(!answers_within(&http, &url, Duration::from_millis(50)).await);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap_or_else(|e| panic!("port {port} was not free: {e}"));
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut request = [0; 1024];
                let _ = stream.read(&mut request).await;
                let _ = stream
                    .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
                    .await;
            }
        });
        assert!(answers_within(&http, &url, Duration::from_secs(5)).await);
    }
}
