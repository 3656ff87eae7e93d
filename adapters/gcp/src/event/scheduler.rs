//! Cloud Scheduler HTTP-target calls.

use chrono::{DateTime, Utc};
use http::HeaderMap;
use nubes_core::{Error, ScheduledEvent};

use super::{Decoded, NeutralEvent, wire};

const JOB_NAME: &str = "x-cloudscheduler-jobname";
const SCHEDULE_TIME: &str = "x-cloudscheduler-scheduletime";

pub(super) fn is_scheduler_call(headers: &HeaderMap) -> bool {
    headers.contains_key(JOB_NAME) || headers.contains_key("x-cloudscheduler")
}

/// `X-CloudScheduler-JobName` and `X-CloudScheduler-ScheduleTime` (RFC 3339;
/// now when absent).
pub(super) fn decode(headers: &HeaderMap) -> Result<Decoded, Error> {
    let text = |name: &str| -> Result<Option<&str>, Error> {
        headers
            .get(name)
            .map(|v| {
                v.to_str()
                    .map_err(|_| Error::invalid_event(format!("header `{name}` is not ASCII text")))
            })
            .transpose()
    };
    let job = text(JOB_NAME)?.map(|j| wire::short_name(j, "jobs").to_owned());
    let at = match text(SCHEDULE_TIME)? {
        Some(t) => wire::time(t, "X-CloudScheduler-ScheduleTime")?,
        None => Utc::now(),
    };
    Ok(fired(
        job.unwrap_or_default(),
        at,
        None,
        "application/octet-stream",
    ))
}

/// A firing of `job` scheduled for `at`.
pub(super) fn fired(
    job: String,
    at: DateTime<Utc>,
    id: Option<String>,
    raw_type: &'static str,
) -> Decoded {
    Decoded {
        names: vec![job.clone()],
        event: NeutralEvent::Schedule(ScheduledEvent::new(job, at)),
        id,
        attempt: 1,
        raw_type,
    }
}

pub(super) fn fired_now(name: &str) -> Decoded {
    fired(
        name.to_owned(),
        Utc::now(),
        None,
        "application/octet-stream",
    )
}
