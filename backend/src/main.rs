//! `cylwatch serve` runs the server; `cylwatch simulate` (and the load generators) run the
//! `cylwatch-sim` binary, a client of the server that is not linked into it.

use anyhow::Context;
use clap::{Parser, Subcommand};
use cylwatch::config::Settings;
use cylwatch::startup::Application;
use cylwatch::telemetry;
use std::ffi::OsString;
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

/// The arguments handed to `cylwatch-sim` unchanged.
#[derive(clap::Args)]
struct Passed {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    args: Vec<OsString>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (settings: defaults, then --config, then CYLWATCH_* variables).
    Serve {
        /// A TOML settings file.
        #[arg(long, env = "CYLWATCH_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Drive a running server with simulated vehicles through its public API
    /// (`cylwatch-sim simulate`; `--help` lists its options).
    #[command(disable_help_flag = true)]
    Simulate(Passed),
    /// Load `POST /api/v1/fillings/authorize` (`cylwatch-sim load-authorize`).
    #[command(disable_help_flag = true)]
    LoadAuthorize(Passed),
    /// Post GPS batches to `POST /api/v1/events` (`cylwatch-sim load-ingest`).
    #[command(disable_help_flag = true)]
    LoadIngest(Passed),
    /// Time GPS fixes to many live WebSocket clients (`cylwatch-sim load-live`).
    #[command(disable_help_flag = true)]
    LoadLive(Passed),
}

/// glibc's malloc cost about a quarter of the server's CPU under load (BENCHMARKS.md, issue 5).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let (name, passed) = match Cli::parse().command {
        Command::Serve { config } => return serve(config),
        Command::Simulate(p) => ("simulate", p),
        Command::LoadAuthorize(p) => ("load-authorize", p),
        Command::LoadIngest(p) => ("load-ingest", p),
        Command::LoadLive(p) => ("load-live", p),
    };
    let code = run_sim(name, passed.args)?;
    std::process::exit(code)
}

fn serve(config: Option<PathBuf>) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async move {
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
        if let Some(port) = app.jt808_port() {
            writeln!(out, "cylwatch jt808 on port {port}").context("stdout")?;
        }
        writeln!(out, "cylwatch listening on port {}", app.port()).context("stdout")?;
        out.flush().context("stdout")?;
        drop(out);
        tracing::info!(port = app.port(), "cylwatch serving");
        app.run_until_stopped().await
    })
}

/// The simulator's binary: beside this executable (one cargo build), else on `PATH`.
fn sim_binary() -> anyhow::Result<PathBuf> {
    let name = format!("cylwatch-sim{}", std::env::consts::EXE_SUFFIX);
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(&name)));
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join(&name));
    beside
        .into_iter()
        .chain(on_path)
        .find(|path| path.is_file())
        .with_context(|| {
            format!(
                "{name} was not found beside this executable nor on PATH; build it with \
                 `cargo build -p cylwatch-sim` (the same profile as the server)"
            )
        })
}

/// Runs `cylwatch-sim <name> <args>` with this process's standard streams; its exit code. On
/// Unix the simulator replaces this process (`exec`), so that a signal meant for
/// `cylwatch simulate` (Ctrl-C, `kill` from scripts/demo) reaches it.
fn run_sim(name: &str, args: Vec<OsString>) -> anyhow::Result<i32> {
    let binary = sim_binary()?;
    let mut command = std::process::Command::new(&binary);
    command.arg(name).args(args);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let error = command.exec();
        Err(error).with_context(|| format!("running {}", binary.display()))
    }
    #[cfg(not(unix))]
    {
        let status = command
            .status()
            .with_context(|| format!("running {}", binary.display()))?;
        // A simulator ended by a signal has no code: report it as a failure.
        Ok(status.code().unwrap_or(1))
    }
}
