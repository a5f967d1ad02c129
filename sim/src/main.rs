//! `cylwatch-sim`: the simulated city and the load generators, each a client of a running
//! server over HTTP and WebSocket. `cylwatch simulate|load-*` run this binary.

use anyhow::Context;
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "cylwatch-sim",
    version,
    about = "The cylwatch city simulator and load generators"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Drive a running server with simulated vehicles through its public API.
    Simulate(cylwatch_sim::SimArgs),
    /// Load `POST /api/v1/fillings/authorize` at a fixed rate (open loop) or as fast as
    /// possible (`--rate 0`, closed loop); prints latency percentiles as JSON.
    LoadAuthorize(cylwatch_sim::load::LoadArgs),
    /// Post GPS batches to `POST /api/v1/events` with a few concurrent senders (or write the
    /// same rows as CSV); prints the durable ingest rate and the pipeline's catch-up as JSON.
    LoadIngest(cylwatch_sim::ingest_load::IngestArgs),
    /// Open many live WebSocket clients, post GPS fixes at a steady rate and time each fix to
    /// each client; prints latency percentiles as JSON.
    LoadLive(cylwatch_sim::live_load::LiveArgs),
    /// Connect many JT/T 808 terminals to the server's gateway: memory per connection, answer
    /// latency at a steady report rate, and the maximum fixes per second; prints JSON.
    LoadJt808(cylwatch_sim::jt808_load::Jt808Args),
    /// Issue a recall and time until a sample of its cylinders are all refused (R16) at the
    /// gun; prints JSON.
    LoadRecall(cylwatch_sim::recall_load::RecallArgs),
}

fn main() -> anyhow::Result<()> {
    let command = Cli::parse().command;
    // The load generator shares the machine with the server it measures: one thread reading
    // its answers (beside the pacing thread that writes the requests) costs the cores least;
    // everything else gets the multi-threaded runtime.
    let runtime = match command {
        Command::LoadAuthorize(_) => tokio::runtime::Builder::new_current_thread(),
        _ => tokio::runtime::Builder::new_multi_thread(),
    }
    .enable_all()
    .build()
    .context("starting the runtime")?;
    runtime.block_on(run(command))
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Simulate(args) => {
            logging("info");
            cylwatch_sim::run(args).await
        }
        Command::LoadAuthorize(args) => {
            logging("warn");
            cylwatch_sim::load::run(args).await
        }
        Command::LoadIngest(args) => {
            logging("warn");
            cylwatch_sim::ingest_load::run(args).await
        }
        Command::LoadLive(args) => {
            logging("warn");
            cylwatch_sim::live_load::run(args).await
        }
        Command::LoadJt808(args) => {
            logging("warn");
            cylwatch_sim::jt808_load::run(args).await
        }
        Command::LoadRecall(args) => {
            logging("warn");
            cylwatch_sim::recall_load::run(args).await
        }
    }
}

/// `tracing` to stderr with `filter` (`RUST_LOG` wins when set).
fn logging(filter: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(filter));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(true)
        .try_init();
}
