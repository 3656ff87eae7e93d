//! Every handler runs with its invocation as the current context (what log
//! formatters read), concurrent invocations each with their own, and every
//! event and HTTP request is counted in the context's metrics sink.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use nubes_core::metrics::{Aggregator, Metrics, Series};
use nubes_core::raw::{AppDispatch as _, ContextBuilder};
use nubes_core::{
    App, Body, BoxError, Context, Platform, QueueMessage, TraceContext, TriggerKind,
    current_context,
};

fn trace(id: &str) -> TraceContext {
    TraceContext::from_traceparent(&format!("00-{id}-00f067aa0ba902b7-01")).unwrap()
}

async fn check_current(msg: QueueMessage, ctx: Context) -> Result<(), BoxError> {
    for _ in 0..3 {
        let current = current_context().ok_or("no current context")?;
        if current.trace() != ctx.trace() || current.invocation_id() != msg.id {
            return Err("another invocation's context".into());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    if msg.text()? == "fail" {
        return Err("asked to fail".into());
    }
    Ok(())
}

fn value(series: &[Series], name: &str, trigger: &str) -> f64 {
    series
        .iter()
        .filter(|s| {
            s.name == name && s.dimensions.get("trigger").map(String::as_str) == Some(trigger)
        })
        .map(Series::value)
        .sum()
}

#[tokio::test]
async fn events_and_requests_run_in_their_own_context_and_are_counted() {
    let aggregator = Arc::new(Aggregator::new());
    let metrics = Metrics::new(aggregator.clone());
    let router = axum::Router::new().route(
        "/",
        axum::routing::get(|| async {
            let ctx = current_context().unwrap();
            ctx.metrics().count("pages", 1.0);
            ctx.trace().trace_id().unwrap().to_owned()
        }),
    );
    let app = App::new().on_queue("orders", check_current).http(router);
    let ids = [
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "0af7651916cd43dd8448eb211c80319c",
        "105445aa7843bc8bf206b12000100000",
    ];
    let runs = ids.iter().enumerate().map(|(i, id)| {
        let ctx = ContextBuilder::new(Platform::Local, TriggerKind::Queue, "orders")
            .invocation_id(format!("m-{i}"))
            .trace(trace(id))
            .metrics(metrics.clone())
            .build();
        let body = if i == 2 { "fail" } else { "ok" };
        app.dispatch_queue(QueueMessage::new(format!("m-{i}"), body), ctx)
    });
    let outcomes = futures_util::future::join_all(runs).await;
    assert!(
        outcomes[0].is_success() && outcomes[1].is_success(),
        "{outcomes:?}"
    );
    assert_eq!(outcomes[2].error().unwrap().message(), "asked to fail");
    assert!(
        current_context().is_none(),
        "nothing leaks out of an invocation"
    );

    let ctx = ContextBuilder::new(Platform::Local, TriggerKind::Http, "http")
        .trace(trace(ids[0]))
        .metrics(metrics.clone())
        .build();
    let res = app
        .dispatch_http(http::Request::get("/").body(Body::empty()).unwrap(), ctx)
        .await;
    assert_eq!(res.into_body().collect_bytes(100).await.unwrap(), ids[0]);

    let series = aggregator.drain();
    assert_eq!(value(&series, "invocations", "orders"), 3.0);
    assert_eq!(value(&series, "errors", "orders"), 1.0);
    assert_eq!(value(&series, "invocations", "http"), 1.0);
    assert_eq!(
        series
            .iter()
            .filter(|s| s.name == "pages")
            .map(Series::value)
            .sum::<f64>(),
        1.0
    );
    let cold: f64 = series
        .iter()
        .filter(|s| s.name == "cold_start")
        .map(Series::value)
        .sum();
    assert_eq!(cold, 1.0);
}
