//! Byte ranges of partial reads.

use std::ops::{Range, RangeFrom, RangeInclusive};

use crate::Error;

/// The bytes `start..end` of an object (`end` exclusive; `None`: to the end).
///
/// ```
/// use nubes_core::bucket::ByteRange;
///
/// assert_eq!(ByteRange::from(10..20), ByteRange { start: 10, end: Some(20) });
/// assert_eq!(ByteRange::from(5..), ByteRange { start: 5, end: None });
/// assert_eq!(ByteRange::from(0..=9).len(), Some(10));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    /// The first byte.
    pub start: u64,
    /// One past the last byte, or `None` for "to the end".
    pub end: Option<u64>,
}

impl ByteRange {
    /// How many bytes the range covers, when it has an end.
    pub fn len(&self) -> Option<u64> {
        self.end.map(|end| end.saturating_sub(self.start))
    }

    /// True for a range with an end at or before its start.
    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }

    /// Refuses empty and backwards ranges (no backend reads them the same way).
    pub fn check(&self) -> Result<(), Error> {
        if self.is_empty() {
            return Err(Error::invalid_input(format!(
                "byte range {}..{} is empty",
                self.start,
                self.end.unwrap_or_default()
            )));
        }
        Ok(())
    }
}

impl From<Range<u64>> for ByteRange {
    fn from(r: Range<u64>) -> Self {
        ByteRange {
            start: r.start,
            end: Some(r.end),
        }
    }
}

impl From<RangeFrom<u64>> for ByteRange {
    fn from(r: RangeFrom<u64>) -> Self {
        ByteRange {
            start: r.start,
            end: None,
        }
    }
}

impl From<RangeInclusive<u64>> for ByteRange {
    fn from(r: RangeInclusive<u64>) -> Self {
        ByteRange {
            start: *r.start(),
            end: Some(r.end().saturating_add(1)),
        }
    }
}
