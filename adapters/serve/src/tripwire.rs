//! How a request body tells the response it failed: a flag shared by the
//! body and the response future of one request.
//!
//! On HTTP/1.1 the requests of a connection run one after another, so one
//! flag per connection serves them all: each request takes the next
//! generation, and a body left over from an earlier request (kept alive by a
//! task of its handler) cannot trip a later one.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Why a body was cut off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trip {
    /// More bytes than the limit.
    TooLarge = 1,
    /// No byte for the body read timeout.
    Stalled = 2,
}

/// The flag: `generation << 2 | trip`.
#[derive(Debug, Default)]
pub(crate) struct Tripwire(AtomicU64);

impl Tripwire {
    /// Starts the next request's generation.
    pub(crate) fn arm(&self) -> u64 {
        let generation = (self.0.load(Ordering::Relaxed) >> 2) + 1;
        self.0.store(generation << 2, Ordering::Relaxed);
        generation
    }

    /// Records `trip` for `generation` (no effect once another request began).
    pub(crate) fn trip(&self, generation: u64, trip: Trip) {
        let _ = self.0.compare_exchange(
            generation << 2,
            generation << 2 | trip as u64,
            Ordering::AcqRel,
            Ordering::Relaxed,
        );
    }

    /// What happened to `generation`'s body, if anything.
    pub(crate) fn tripped(&self, generation: u64) -> Option<Trip> {
        let state = self.0.load(Ordering::Acquire);
        if state >> 2 != generation {
            return None;
        }
        match state & 3 {
            1 => Some(Trip::TooLarge),
            2 => Some(Trip::Stalled),
            _ => None,
        }
    }
}

/// One request's view of the flag.
#[derive(Debug, Clone)]
pub(crate) struct Armed {
    pub(crate) wire: Arc<Tripwire>,
    pub(crate) generation: u64,
}

impl Armed {
    pub(crate) fn trip(&self, trip: Trip) {
        self.wire.trip(self.generation, trip);
    }

    pub(crate) fn tripped(&self) -> Option<Trip> {
        self.wire.tripped(self.generation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stale_body_cannot_trip_the_next_request() {
        let wire = Tripwire::default();
        let first = wire.arm();
        let second = wire.arm();
        wire.trip(first, Trip::TooLarge);
        assert_eq!(wire.tripped(second), None);
        wire.trip(second, Trip::Stalled);
        assert_eq!(wire.tripped(second), Some(Trip::Stalled));
        assert_eq!(wire.tripped(first), None);
        // The first trip wins.
        wire.trip(second, Trip::TooLarge);
        assert_eq!(wire.tripped(second), Some(Trip::Stalled));
    }
}
