//! Logging and metrics: `tracing` to stderr with the configured filter (`RUST_LOG` wins when
//! set), as text or JSON lines; the process's Prometheus metrics (`metrics()`).

mod metrics;

pub use metrics::{metrics, Metrics};
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// The message a panic carried (`panic!("...")`, `unwrap` on `Err` ...), or "" when it
/// carried no text.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// A long-lived worker caught a panic in one unit of its work and goes on (with fresh state):
/// logged as an error and counted as a restart of `worker`; the message for the callers whose
/// work it was.
pub fn worker_panicked(worker: &'static str, panic: &(dyn std::any::Any + Send)) -> String {
    let message = panic_message(panic);
    tracing::error!(
        worker,
        panic = message,
        "background worker panicked; restarting"
    );
    metrics().worker_restarted(worker);
    format!("the {worker} worker failed ({message}); it was restarted")
}

/// Installs the global subscriber once (text lines); later calls are no-ops.
pub fn init(filter: &str) {
    init_with(filter, false);
}

/// Installs the global subscriber once, writing JSON lines when `json`; later calls are
/// no-ops.
pub fn init_with(filter: &str, json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal, never into a log file.
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(true);
    let _ = if json {
        builder.json().with_current_span(true).try_init()
    } else {
        builder.try_init()
    };
}
