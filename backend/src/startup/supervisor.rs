//! Background workers under supervision: a worker that ends before shutdown — it returned or
//! panicked — is logged as an error, counted (`cylwatch_worker_restarts_total`) and started
//! again after a pause, so the server never runs on silently without it.

use crate::telemetry::metrics;
use std::future::Future;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The first pause before a restart; it doubles up to `MAX_PAUSE` while the worker keeps
/// failing at once.
const FIRST_PAUSE: Duration = Duration::from_millis(500);
const MAX_PAUSE: Duration = Duration::from_secs(30);
/// A worker that ran this long before it ended starts again after the first pause.
const HEALTHY_RUN: Duration = Duration::from_secs(60);

/// Runs `make()`'s future as a task until `shutdown`, starting it again whenever it ends
/// before then.
pub fn supervise<F, Fut>(
    name: &'static str,
    mut shutdown: watch::Receiver<bool>,
    make: F,
) -> JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    tokio::spawn(async move {
        let mut pause = FIRST_PAUSE;
        loop {
            let started = Instant::now();
            let outcome = tokio::spawn(make()).await;
            if *shutdown.borrow() {
                return;
            }
            match outcome {
                Ok(()) => tracing::error!(worker = name, "background worker stopped; restarting"),
                Err(e) if e.is_panic() => {
                    let message = crate::telemetry::panic_message(&*e.into_panic());
                    tracing::error!(
                        worker = name,
                        panic = message,
                        "background worker panicked; restarting"
                    );
                }
                Err(e) => {
                    tracing::error!(worker = name, error = %e, "background worker cancelled; restarting");
                }
            }
            metrics().worker_restarted(name);
            if started.elapsed() >= HEALTHY_RUN {
                pause = FIRST_PAUSE;
            }
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = shutdown.changed() => return,
            }
            pause = (pause * 2).min(MAX_PAUSE);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::supervise;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;
    use tokio::sync::watch;

    /// Starts of a worker that panics on its first run and returns on its second, then runs
    /// until shutdown.
    #[tokio::test]
    async fn a_worker_that_panics_or_returns_is_started_again() {
        let starts = Arc::new(AtomicUsize::new(0));
        let (shutdown, shutdown_rx) = watch::channel(false);
        let handle = supervise("test worker", shutdown_rx.clone(), {
            let starts = starts.clone();
            move || {
                let starts = starts.clone();
                let mut stop = shutdown_rx.clone();
                async move {
                    match starts.fetch_add(1, Ordering::SeqCst) {
                        0 => panic!("the worker died"),
                        1 => {}
                        _ => {
                            let _ = stop.changed().await;
                        }
                    }
                }
            }
        });
        let third = tokio::time::timeout(Duration::from_secs(10), async {
            while starts.load(Ordering::SeqCst) < 3 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        assert!(third.is_ok(), "the worker was not started a third time");
        shutdown.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(5), handle)
            .await
            .expect("the supervisor stops at shutdown")
            .unwrap();
        assert_eq!(
            starts.load(Ordering::SeqCst),
            3,
            "no restart after shutdown"
        );
    }
}
