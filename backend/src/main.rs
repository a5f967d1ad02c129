//! `cylwatch serve` runs the server; `cylwatch simulate` drives it with a simulated city.

use anyhow::Context;
use clap::{Parser, Subcommand};
use cylwatch::config::Settings;
use cylwatch::sim::SimArgs;
use cylwatch::startup::Application;
use cylwatch::telemetry;
use std::io::Write;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "cylwatch",
    version,
    about = "Real-time supervision of gas cylinders"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (settings: defaults, then --config, then CYLWATCH_* variables).
    Serve {
        /// A TOML settings file.
        #[arg(long, env = "CYLWATCH_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Drive a running server with simulated vehicles through its public API.
    Simulate(SimArgs),
    /// Load `POST /api/v1/fillings/authorize` at a fixed rate (open loop) or as fast as
    /// possible (`--rate 0`, closed loop); prints latency percentiles as JSON.
    LoadAuthorize(cylwatch::sim::load::LoadArgs),
    /// Time the fence stage per fix against a bare R-tree query and a PostGIS query per fix;
    /// prints JSON.
    BenchFences(cylwatch::sim::fence_bench::BenchArgs),
    /// Post GPS batches to `POST /api/v1/events` with a few concurrent senders (or write the
    /// same rows as CSV); prints the durable ingest rate and the pipeline's catch-up as JSON.
    LoadIngest(cylwatch::sim::ingest_load::IngestArgs),
    /// Open many live WebSocket clients, post GPS fixes at a steady rate and time each fix to
    /// each client; prints latency percentiles as JSON.
    LoadLive(cylwatch::sim::live_load::LiveArgs),
}

/// glibc's malloc cost about a quarter of the server's CPU under load (BENCHMARKS.md, issue 5).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
        Command::Serve { config } => {
            let (settings, ignored) = Settings::load(config.as_deref())?;
            telemetry::init_with(
                &settings.log,
                settings.log_format == cylwatch::config::LogFormat::Json,
            );
            for name in ignored {
                tracing::warn!(name, "ignoring unknown CYLWATCH_* variable");
            }
            let app = Application::build(settings).await?;
            // Tests and scripts read this line to learn the port (http_addr may say port 0).
            let mut out = std::io::stdout().lock();
            if let Some(port) = app.metrics_port() {
                writeln!(out, "cylwatch metrics on port {port}").context("stdout")?;
            }
            writeln!(out, "cylwatch listening on port {}", app.port()).context("stdout")?;
            out.flush().context("stdout")?;
            drop(out);
            tracing::info!(port = app.port(), "cylwatch serving");
            app.run_until_stopped().await
        }
        Command::Simulate(args) => {
            telemetry::init("info");
            cylwatch::sim::run(args).await
        }
        Command::LoadAuthorize(args) => {
            telemetry::init("warn");
            cylwatch::sim::load::run(args).await
        }
        Command::BenchFences(args) => {
            telemetry::init("warn");
            cylwatch::sim::fence_bench::run(args).await
        }
        Command::LoadIngest(args) => {
            telemetry::init("warn");
            cylwatch::sim::ingest_load::run(args).await
        }
        Command::LoadLive(args) => {
            telemetry::init("warn");
            cylwatch::sim::live_load::run(args).await
        }
    }
}
