//! The names of the app's Azure functions, which are also the paths the
//! Functions host POSTs invocations to.
//!
//! With `enableProxyingHttpRequest` the app's own HTTP requests arrive at
//! their original paths, on the same server, with the same headers the host
//! puts on invocations (`X-Azure-Functions-InvocationId`, its `User-Agent`):
//! nothing but the path tells the two apart. So event functions are not named
//! after their trigger alone: `nubes-{kind}-{trigger}` (`nubes-queue-orders`),
//! and every one-segment `POST /nubes-…` is reserved for invocations. An app
//! route `POST /orders` and a queue trigger `orders` then cannot be mistaken
//! for each other. `nubes-deploy` names the generated function folders the
//! same way.

use nubes_core::TriggerKind;

/// The prefix of every event function's name; one-segment `POST` paths
/// starting with it are invocations, never requests for the app's routes.
pub const RESERVED_PREFIX: &str = "nubes-";

/// The event trigger kinds that are Azure functions of their own.
const EVENT_KINDS: [TriggerKind; 3] = [
    TriggerKind::Queue,
    TriggerKind::Storage,
    TriggerKind::Schedule,
];

/// The name of the Azure function that serves event trigger `trigger` of
/// `kind` (queue, storage or schedule): `nubes-{kind}-{trigger}`, the folder
/// of its `function.json` and the path the host invokes it at.
///
/// ```
/// use nubes_core::TriggerKind;
///
/// assert_eq!(nubes_azure::event_function_name(TriggerKind::Queue, "orders"), "nubes-queue-orders");
/// assert_eq!(nubes_azure::event_function_name(TriggerKind::Schedule, "nightly"), "nubes-schedule-nightly");
/// ```
pub fn event_function_name(kind: TriggerKind, trigger: &str) -> String {
    format!("{RESERVED_PREFIX}{}-{trigger}", kind.as_str())
}

/// `nubes-queue-orders` → (queue, `orders`); `None` for any other name.
pub(crate) fn parse(function: &str) -> Option<(TriggerKind, &str)> {
    let rest = function.strip_prefix(RESERVED_PREFIX)?;
    EVENT_KINDS.into_iter().find_map(|kind| {
        let trigger = rest.strip_prefix(kind.as_str())?.strip_prefix('-')?;
        (!trigger.is_empty()).then_some((kind, trigger))
    })
}

/// Whether `segment` (a one-segment path) is reserved for invocations.
pub(crate) fn is_reserved(segment: &str) -> bool {
    segment.starts_with(RESERVED_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in EVENT_KINDS {
            for trigger in ["orders", "a-b_c", "9lives", "queue-x"] {
                let name = event_function_name(kind, trigger);
                assert!(is_reserved(&name));
                assert_eq!(parse(&name), Some((kind, trigger)), "{name}");
            }
        }
    }

    #[test]
    fn other_names_are_no_event_function() {
        for name in [
            "orders",
            "http",
            "nubes-",
            "nubes-queue",
            "nubes-queue-",
            "nubes-http-x",
            "nubes-queues-x",
            "xnubes-queue-x",
        ] {
            assert_eq!(parse(name), None, "{name}");
        }
        assert!(!is_reserved("orders"));
    }
}
