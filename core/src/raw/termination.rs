//! The process termination signal every long-running adapter waits for.

/// Resolves when the process is asked to terminate: on Ctrl-C (SIGINT) or
/// SIGTERM, the signal Cloud Run, Azure and container hosts send before
/// stopping an instance. If a signal handler cannot be installed, that signal
/// is simply never reported.
///
/// Adapters wait for it to stop intake and cancel the token handlers watch
/// through [`Context::shutdown`](crate::Context::shutdown).
pub async fn termination_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
