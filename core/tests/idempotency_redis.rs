//! The idempotency behaviour suite on `RedisStore`, against a real
//! `redis-server` started here on 127.0.0.1 with a free port, no persistence,
//! and killed at the end (installed by `.ci/install-redis.sh`).

#![cfg(feature = "redis")]
#![allow(clippy::unwrap_used)]

mod idempotency_suite;

use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use idempotency_suite as suite;
use nubes_core::idempotency::{Begin, IdempotencyStore, RedisStore, idempotent};
use nubes_core::raw::{AppDispatch as _, ContextBuilder, Outcome};
use nubes_core::{App, BoxError, Context, Platform, QueueMessage, TriggerKind};

/// A `redis-server` in its own process group, killed on drop.
struct RedisServer {
    child: Child,
    port: u16,
}

impl RedisServer {
    /// Starts one and waits until it listens. Its tests are
    /// `#[ignore = "needs redis-server: .ci/install-redis.sh"]`; when one runs
    /// without redis-server installed, it fails saying how to install it.
    /// (A free port is picked here: `--port 0` would turn off redis's TCP.)
    fn start() -> RedisServer {
        let installed = Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            installed,
            "redis-server is not installed: run .ci/install-redis.sh (apt-get install redis-server)"
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .process_group(0)
            .spawn()
            .unwrap();
        let server = RedisServer { child, port };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not listen on port {port} within 10 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        // The server leads its own process group: kill the whole group.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.wait();
    }
}

/// Every check of the suite on one server, each under its own key prefix.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server: .ci/install-redis.sh"]
async fn redis_store_passes_the_behaviour_suite() {
    let server = RedisServer::start();
    let connected = RedisStore::connect(&server.url()).await.unwrap();
    let store = |name: &str| connected.clone().with_prefix(format!("test:{name}:"));
    let started = Instant::now();

    suite::sequential_duplicates_run_once(store("sequential")).await;
    suite::concurrent_duplicates_run_once(store("concurrent")).await;
    suite::failed_runs_can_be_retried(store("failed")).await;
    suite::permanent_failures_release_the_key(store("permanent")).await;
    suite::lapsed_leases_let_a_later_delivery_run(store("lapsed")).await;
    suite::cancelled_runs_release_the_key(store("cancelled")).await;
    suite::completed_keys_expire_after_the_ttl(store("ttl")).await;
    suite::user_derived_keys(store("user-key")).await;
    suite::storage_and_schedule_keys(store("storage-schedule")).await;

    // Records really live in Redis, with an expiry, under the prefix.
    let mut conn = redis::Client::open(server.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let value: String = redis::cmd("GET")
        .arg("test:sequential:queue:orders:m-1")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(value, "done");
    let ttl_ms: i64 = redis::cmd("PTTL")
        .arg("test:sequential:queue:orders:m-1")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(ttl_ms > 0 && ttl_ms <= 3_600_000, "PTTL {ttl_ms}");

    // Two stores (two function instances) on one server see each other's leases.
    let (a, b) = (store("instances"), store("instances"));
    let lease = Duration::from_secs(30);
    assert_eq!(a.begin("k", "ta", lease).await.unwrap(), Begin::Acquired);
    let seen = b.begin("k", "tb", lease).await.unwrap();
    let Begin::InProgress {
        expires_in: Some(left),
    } = seen
    else {
        panic!("expected a live lease, got {seen:?}");
    };
    assert!(left <= lease && left > Duration::from_secs(25), "{left:?}");
    b.release("k", "tb").await.unwrap(); // not b's lease: no effect
    assert!(matches!(
        b.begin("k", "tb", lease).await.unwrap(),
        Begin::InProgress { .. }
    ));
    a.complete("k", "ta", lease).await.unwrap();
    assert_eq!(b.begin("k", "tb", lease).await.unwrap(), Begin::Completed);

    println!("redis behaviour suite: {:?}", started.elapsed());
    drop(server);
}

/// A Redis that is down fails deliveries (retry) without running the handler.
#[tokio::test]
async fn an_unreachable_redis_fails_the_delivery_without_running() {
    // A port nothing listens on: bound, then closed.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let store = RedisStore::open(&format!("redis://127.0.0.1:{port}/")).unwrap();
    let runs = suite::Runs::default();
    let counter = runs.clone();
    let handler = move |_msg: QueueMessage, _ctx: Context| {
        counter.bump();
        async { Ok::<(), BoxError>(()) }
    };
    let app = App::new().on_queue("orders", idempotent(handler).store(store));
    let ctx = ContextBuilder::new(Platform::Local, TriggerKind::Queue, "orders").build();
    let started = Instant::now();
    let outcome = app.dispatch_queue(QueueMessage::new("m-1", "x"), ctx).await;
    assert!(matches!(outcome, Outcome::Retry(_)), "{outcome:?}");
    assert_eq!(runs.get(), 0);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}
