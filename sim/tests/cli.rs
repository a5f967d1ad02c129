//! The binary's command line. Having an integration test also makes `cargo test --workspace`
//! build `cylwatch-sim` beside the server's binary, where the end-to-end test of the
//! simulated city (`tests/api/sim.rs`) runs it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

#[test]
fn every_subcommand_answers_help() {
    for sub in ["simulate", "load-authorize", "load-ingest", "load-live"] {
        let out = Command::new(env!("CARGO_BIN_EXE_cylwatch-sim"))
            .args([sub, "--help"])
            .output()
            .expect("running cylwatch-sim");
        assert!(out.status.success(), "{sub}: {out:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("--api"),
            "{sub}"
        );
    }
}

#[test]
fn simulate_without_an_administrator_fails_clearly() {
    let out = Command::new(env!("CARGO_BIN_EXE_cylwatch-sim"))
        .args(["simulate", "--api", "http://127.0.0.1:9", "--speed", "0"])
        .args(["--duration-s", "1"])
        .env_remove("CYLWATCH_ADMIN_USER")
        .env_remove("CYLWATCH_ADMIN_PASSWORD")
        .output()
        .expect("running cylwatch-sim");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--admin-user"));
}
