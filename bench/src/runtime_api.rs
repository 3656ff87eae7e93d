//! A Lambda Runtime API of our own for the Lambda benchmarks: serves one
//! event `total` times, as fast as the function asks for it, and records when
//! each invocation was handed out (`/next` answered) and when its reply came
//! back (`/response` or `/error` received).
//!
//! Loopback only, HTTP/1.1 keep-alive (hyper), like the real Runtime API.
//! Once every invocation is out, further `/next` calls are held open, as
//! Lambda does between invocations, until the process is stopped.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::Notify;

const PREFIX: &str = "/2018-06-01/runtime/";
const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:bench";
const TRACE_ID: &str = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
/// How much of the first reply is kept, to check what the function answered.
const PREVIEW: usize = 4096;

/// What the benchmark observed; read it with [`RuntimeApi::snapshot`].
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// When the first `/next` arrived (the function is ready).
    pub first_next: Option<Instant>,
    /// Invocations handed out.
    pub issued: usize,
    /// Invocations answered (`/response` or `/error`).
    pub answered: usize,
    /// Invocations answered with `/error`.
    pub errors: usize,
    /// Per invocation: `/next` answered → reply received.
    pub latencies: Vec<Duration>,
    /// When each invocation was answered, in order of arrival.
    pub answered_at: Vec<Instant>,
    /// The start of the first reply, `/error` ones prefixed with `error:`.
    pub first_reply: Option<String>,
    /// The body of a `/runtime/init/error` report, if the function sent one.
    pub init_error: Option<String>,
}

/// The emulated Runtime API; share it in an `Arc`.
#[derive(Debug)]
pub struct RuntimeApi {
    event: Bytes,
    total: usize,
    observed: Mutex<Observed>,
    handed_out: Mutex<Vec<Option<Instant>>>,
    changed: Notify,
}

impl RuntimeApi {
    /// Serves `event` `total` times.
    pub fn new(event: Bytes, total: usize) -> Arc<Self> {
        Arc::new(RuntimeApi {
            event,
            total,
            observed: Mutex::new(Observed::default()),
            handed_out: Mutex::new(vec![None; total]),
            changed: Notify::new(),
        })
    }

    /// Binds 127.0.0.1 on a free port and serves in the background.
    pub async fn serve(self: &Arc<Self>) -> std::io::Result<SocketAddr> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let api = Arc::clone(self);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                // The real Runtime API answers small requests: no Nagle delays.
                let _ = stream.set_nodelay(true);
                let api = Arc::clone(&api);
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        let api = Arc::clone(&api);
                        async move { Ok::<_, Infallible>(api.route(req).await) }
                    });
                    let _ = http1::Builder::new()
                        .keep_alive(true)
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(addr)
    }

    /// A copy of what has been observed so far.
    pub fn snapshot(&self) -> Observed {
        self.observed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Waits until something changes (an invocation handed out or answered).
    pub async fn changed(&self) {
        self.changed.notified().await;
    }

    /// Whether every invocation has been answered.
    pub fn finished(&self) -> bool {
        let observed = self.observed.lock().unwrap_or_else(PoisonError::into_inner);
        observed.answered >= self.total || observed.init_error.is_some()
    }

    async fn route(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let path = req.uri().path().to_owned();
        let Some(rest) = path.strip_prefix(PREFIX) else {
            return status(StatusCode::NOT_FOUND);
        };
        match (req.method(), rest) {
            (&Method::GET, "invocation/next") => self.next().await,
            (&Method::POST, "init/error") => {
                let body = read(req).await;
                self.update(|o| o.init_error = Some(String::from_utf8_lossy(&body).into_owned()));
                status(StatusCode::ACCEPTED)
            }
            (&Method::POST, rest) => {
                let Some((id, kind)) = rest
                    .strip_prefix("invocation/")
                    .and_then(|r| r.rsplit_once('/'))
                else {
                    return status(StatusCode::NOT_FOUND);
                };
                let is_error = match kind {
                    "response" => false,
                    "error" => true,
                    _ => return status(StatusCode::NOT_FOUND),
                };
                let index = invocation_index(id);
                let body = read(req).await;
                let received = Instant::now();
                self.answer(index, is_error, &body, received)
            }
            _ => status(StatusCode::NOT_FOUND),
        }
    }

    async fn next(&self) -> Response<Full<Bytes>> {
        let index = {
            let mut observed = self.observed.lock().unwrap_or_else(PoisonError::into_inner);
            observed.first_next.get_or_insert_with(Instant::now);
            if observed.issued < self.total {
                observed.issued += 1;
                Some(observed.issued - 1)
            } else {
                None
            }
        };
        self.changed.notify_waiters();
        let Some(index) = index else {
            // Everything is out: hold the poll open, as Lambda does when idle.
            std::future::pending::<()>().await;
            return status(StatusCode::NO_CONTENT);
        };
        let deadline = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis()
            + 900_000;
        let response = Response::builder()
            .header("content-type", "application/json")
            .header("lambda-runtime-aws-request-id", request_id(index))
            .header("lambda-runtime-deadline-ms", deadline.to_string())
            .header("lambda-runtime-invoked-function-arn", FUNCTION_ARN)
            .header("lambda-runtime-trace-id", TRACE_ID)
            .body(Full::new(self.event.clone()))
            .unwrap_or_else(|_| status(StatusCode::INTERNAL_SERVER_ERROR));
        if let Some(slot) = self
            .handed_out
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_mut(index)
        {
            *slot = Some(Instant::now());
        }
        response
    }

    fn answer(
        &self,
        index: Option<usize>,
        is_error: bool,
        body: &[u8],
        received: Instant,
    ) -> Response<Full<Bytes>> {
        let started = index.and_then(|i| {
            self.handed_out
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get_mut(i)
                .and_then(Option::take)
        });
        let Some(started) = started else {
            // Unknown or already answered: the Runtime API refuses it.
            return status(StatusCode::BAD_REQUEST);
        };
        self.update(|o| {
            o.answered += 1;
            o.errors += usize::from(is_error);
            o.latencies.push(received.duration_since(started));
            o.answered_at.push(received);
            if o.first_reply.is_none() {
                let text = String::from_utf8_lossy(&body[..body.len().min(PREVIEW)]);
                o.first_reply = Some(if is_error {
                    format!("error:{text}")
                } else {
                    text.into_owned()
                });
            }
        });
        status(StatusCode::ACCEPTED)
    }

    fn update(&self, change: impl FnOnce(&mut Observed)) {
        change(&mut self.observed.lock().unwrap_or_else(PoisonError::into_inner));
        self.changed.notify_waiters();
    }
}

/// Request ids look like the UUIDs Lambda sends and carry their index.
fn request_id(index: usize) -> String {
    format!("00000000-0000-4000-8000-{index:012}")
}

fn invocation_index(id: &str) -> Option<usize> {
    id.strip_prefix("00000000-0000-4000-8000-")?.parse().ok()
}

async fn read(req: Request<Incoming>) -> Bytes {
    req.into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default()
}

fn status(code: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = code;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_round_trip() {
        assert_eq!(invocation_index(&request_id(0)), Some(0));
        assert_eq!(invocation_index(&request_id(123_456)), Some(123_456));
        assert_eq!(invocation_index("not-ours"), None);
    }
}
