//! The Redis store (feature `redis`): one string per key, written by Lua
//! scripts so each operation is atomic and only touches the caller's own lease.

use std::sync::Arc;
use std::time::Duration;

use redis::Script;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::store::{Begin, IdempotencyStore};
use crate::Error;

/// Value of a completed record; an in-progress record holds its owner's token.
const COMPLETED: &str = "done";
/// Key prefix unless [`RedisStore::with_prefix`] sets another.
const DEFAULT_PREFIX: &str = "nubes:idempotency:";

/// `GET` the record; only when there is none, `SET` the caller's lease. Replies
/// nil (acquired) or `{value, pttl}`.
const BEGIN: &str = r"
local current = redis.call('GET', KEYS[1])
if current then
  return {current, redis.call('PTTL', KEYS[1])}
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
";

/// Completed when the record is still the caller's lease or has expired.
const COMPLETE: &str = r"
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] or not current then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
";

/// Deleted only when the record is the caller's lease.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// Keeps idempotency records in Redis (or Valkey), shared by every instance of
/// the function: the store for production.
///
/// Each record is one string key `<prefix><kind>:<trigger>:<key>` with a
/// millisecond expiry (`PX`): the in-progress value is the owner's random
/// token, the completed value `done`. Every operation is one Lua script, hence
/// atomic, and completing or releasing checks the token first. The connection
/// is a [`ConnectionManager`]: multiplexed, reconnecting, with a 2 s connect
/// and response timeout so an unreachable server fails a delivery instead of
/// hanging it. Clones share the connection.
///
/// ```no_run
/// # async fn f() -> Result<(), nubes_core::Error> {
/// use nubes_core::idempotency::{idempotent, RedisStore};
/// # async fn handle(_: nubes_core::QueueMessage, _: nubes_core::Context) -> Result<(), nubes_core::BoxError> { Ok(()) }
///
/// let redis = RedisStore::open("redis://127.0.0.1:6379/")?; // connects on first use
/// let app = nubes_core::App::new().on_queue("orders", idempotent(handle).store(redis));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    prefix: Arc<str>,
    scripts: Arc<Scripts>,
}

struct Scripts {
    begin: Script,
    complete: Script,
    release: Script,
}

impl RedisStore {
    /// A store for the server at `url` (`redis://[user:password@]host:port/db`,
    /// `rediss://` needs a TLS feature of the `redis` crate). The connection is
    /// made on first use; only a malformed URL fails here.
    pub fn open(url: &str) -> Result<Self, Error> {
        let client = client(url)?;
        let conn = ConnectionManager::new_lazy_with_config(client, manager_config())
            .map_err(|e| redis_error(format!("connecting to Redis at {}", redact(url)), e))?;
        Ok(RedisStore::new(conn))
    }

    /// Like [`open`](RedisStore::open), but connects now, so a wrong address
    /// surfaces at startup.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        let client = client(url)?;
        let conn = ConnectionManager::new_with_config(client, manager_config())
            .await
            .map_err(|e| redis_error(format!("connecting to Redis at {}", redact(url)), e))?;
        Ok(RedisStore::new(conn))
    }

    /// A store on a connection you configured yourself.
    pub fn new(conn: ConnectionManager) -> Self {
        RedisStore {
            conn,
            prefix: Arc::from(DEFAULT_PREFIX),
            scripts: Arc::new(Scripts {
                begin: Script::new(BEGIN),
                complete: Script::new(COMPLETE),
                release: Script::new(RELEASE),
            }),
        }
    }

    /// Prefixes every key with `prefix` instead of `nubes:idempotency:`
    /// (several apps sharing one database).
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Arc::from(prefix.into());
        self
    }

    fn full_key(&self, key: &str) -> String {
        let mut full = String::with_capacity(self.prefix.len() + key.len());
        full.push_str(&self.prefix);
        full.push_str(key);
        full
    }
}

impl IdempotencyStore for RedisStore {
    async fn begin(&self, key: &str, token: &str, lease: Duration) -> Result<Begin, Error> {
        let found: Option<(String, i64)> = self
            .scripts
            .begin
            .key(self.full_key(key))
            .arg(token)
            .arg(millis(lease))
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(|e| redis_error(format!("starting idempotency key `{key}`"), e))?;
        Ok(match found {
            None => Begin::Acquired,
            Some((value, _)) if value == COMPLETED => Begin::Completed,
            Some((_, pttl)) => Begin::InProgress {
                // PTTL is -1 (no expiry) or -2 (gone) in corner cases: unknown.
                expires_in: u64::try_from(pttl).ok().map(Duration::from_millis),
            },
        })
    }

    async fn complete(&self, key: &str, token: &str, ttl: Duration) -> Result<(), Error> {
        let _recorded: i64 = self
            .scripts
            .complete
            .key(self.full_key(key))
            .arg(token)
            .arg(COMPLETED)
            .arg(millis(ttl))
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(|e| redis_error(format!("completing idempotency key `{key}`"), e))?;
        Ok(())
    }

    async fn release(&self, key: &str, token: &str) -> Result<(), Error> {
        let _deleted: i64 = self
            .scripts
            .release
            .key(self.full_key(key))
            .arg(token)
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(|e| redis_error(format!("releasing idempotency key `{key}`"), e))?;
        Ok(())
    }
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn client(url: &str) -> Result<redis::Client, Error> {
    redis::Client::open(url).map_err(|e| {
        Error::config(format!("invalid Redis URL {}: {e}", redact(url))).with_source(e)
    })
}

fn manager_config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_response_timeout(Some(Duration::from_secs(2)))
        .set_number_of_retries(2)
}

/// Milliseconds for `PX`, at least 1 (Redis rejects 0).
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((_, host)) => format!("{scheme}://***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

fn redis_error(what: String, err: redis::RedisError) -> Error {
    Error::platform(format!("{what}: {err}")).with_source(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(
            redact("redis://user:secret@cache:6379/0"),
            "redis://***@cache:6379/0"
        );
        assert_eq!(redact("redis://cache:6379"), "redis://cache:6379");
    }

    #[test]
    fn malformed_urls_are_config_errors() {
        let err = RedisStore::open("http://nope").unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Config);
    }

    #[test]
    fn leases_are_at_least_one_millisecond() {
        assert_eq!(millis(Duration::ZERO), 1);
        assert_eq!(millis(Duration::from_secs(2)), 2000);
    }
}
