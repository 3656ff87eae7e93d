//! The log filter every adapter installs, read from `RUST_LOG` in one place so
//! all targets accept the same syntax: a default level and/or
//! `target=level` directives, comma-separated (`info`, `warn,my_app=debug`,
//! `my_app::db=trace`). It is a [`Targets`] filter, a plain prefix match on
//! targets: no regex engine in the binary (tracing-subscriber's `EnvFilter`
//! costs a few hundred KiB for span-field directives nubes does not need).

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;

/// The filter used when `RUST_LOG` is unset, blank or malformed.
pub fn default_filter() -> Targets {
    Targets::new().with_default(LevelFilter::INFO)
}

/// `RUST_LOG` parsed through `lookup`; `None` when unset or blank. A malformed
/// value never panics: it is reported once on stderr (no subscriber exists yet
/// to log it) and `None` is returned, so the caller uses its default.
pub fn rust_log(lookup: &impl Fn(&str) -> Option<String>) -> Option<Targets> {
    let directives = crate::raw::env::text(lookup, "RUST_LOG")?;
    match directives.parse::<Targets>() {
        Ok(filter) => Some(filter),
        Err(err) => {
            eprintln!(
                "nubes: RUST_LOG=`{directives}` is not valid ({err}); expected `level` or \
                 `target=level` directives separated by commas; logging at info"
            );
            None
        }
    }
}

/// `RUST_LOG` through `lookup`, else [`default_filter`] (`info`).
pub fn from_env(lookup: &impl Fn(&str) -> Option<String>) -> Targets {
    rust_log(lookup).unwrap_or_else(default_filter)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    fn filter_of(value: Option<&str>) -> Targets {
        let value = value.map(str::to_owned);
        from_env(&move |name: &str| (name == "RUST_LOG").then(|| value.clone()).flatten())
    }

    #[test]
    fn unset_blank_and_malformed_mean_info() {
        for value in [None, Some("  "), Some("my_app=loud"), Some("[{x=1}]=debug")] {
            let filter = filter_of(value);
            assert!(filter.would_enable("any", &Level::INFO), "{value:?}");
            assert!(!filter.would_enable("any", &Level::DEBUG), "{value:?}");
        }
    }

    #[test]
    fn levels_and_target_directives_are_honoured() {
        let filter = filter_of(Some("warn,my_app=debug,my_app::noisy=error"));
        assert!(filter.would_enable("other", &Level::WARN));
        assert!(!filter.would_enable("other", &Level::INFO));
        assert!(filter.would_enable("my_app::db", &Level::DEBUG));
        assert!(!filter.would_enable("my_app::noisy", &Level::WARN));
        assert!(filter_of(Some("trace")).would_enable("x", &Level::TRACE));
        assert!(!filter_of(Some("off")).would_enable("x", &Level::ERROR));
    }
}
