//! The generated contract holds against the real server: schemathesis (PyPI, installed by
//! `scripts/setup`) sends requests generated from `GET /api/v1/openapi.json` to every route and
//! checks that none answers 5xx and that every answer matches its documented schema.

use crate::common::{archive, gps, output_dir, scan, spawn_app};
use serde_json::json;
use std::path::PathBuf;

/// The schemathesis command: `CYLWATCH_SCHEMATHESIS`, or the one `scripts/setup` installs.
fn schemathesis() -> PathBuf {
    if let Some(path) = std::env::var_os("CYLWATCH_SCHEMATHESIS") {
        return PathBuf::from(path);
    }
    let tools = std::env::var_os("CYLWATCH_TOOLS_DIR").map_or_else(
        || PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/cylwatch/tools"),
        PathBuf::from,
    );
    let st = tools.join("schemathesis/bin/st");
    assert!(
        st.is_file(),
        "{} is missing: run scripts/setup (it installs schemathesis)",
        st.display()
    );
    st
}

#[tokio::test]
async fn every_route_answers_as_its_contract_says() {
    let st = schemathesis();
    let app = spawn_app().await;
    let controller = app.seed_registry_with_controller().await;
    // Some data behind the lists, so that their rows are checked too.
    let (status, answer) = app
        .post_json(
            "/api/v1/cylinders",
            &json!({"items": [archive("431325", "TAG-1"), archive("431326", "TAG-2")]}),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
    let (status, answer) = app
        .post_events(&json!({"events": [
            gps("豫A12345", 113.62, 34.75, "2026-12-06T09:00:00+08:00"),
            scan("fill", "431325", "2026-12-06T09:01:00+08:00", json!({"station_code": "ST1"})),
        ]}))
        .await;
    assert_eq!(status, 202, "{answer}");
    let (status, answer) = app
        .authorize(
            &controller,
            json!({"cylinder_code": "431325", "station_code": "ST1", "gun_no": "1",
                   "medium": "LPG", "staff_no": "S1"}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");

    let report = output_dir().join("schemathesis.txt");
    let output = tokio::process::Command::new(&st)
        .args(["run", &app.url("/api/v1/openapi.json")])
        .args(["--url", &app.base])
        .args(["--checks", "not_a_server_error,response_schema_conformance"])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args([
            "--max-examples",
            "30",
            "--seed",
            "20261206",
            "--workers",
            "1",
        ])
        .args([
            "--suppress-health-check",
            "all",
            "--generation-database",
            "none",
        ])
        // Signing out would end the token the rest of the run uses; the WebSocket is not HTTP.
        .args([
            "--exclude-path",
            "/api/v1/auth/logout",
            "--exclude-path",
            "/api/v1/live",
        ])
        .args([
            "--header",
            &format!("Authorization: Bearer {}", app.admin_token),
        ])
        .args(["--header", &format!("X-Device-Key: {controller}")])
        .args(["--no-color"])
        // Its cache and reports go beside the other test output, not into the source tree.
        .current_dir(output_dir())
        .output()
        .await
        .unwrap();
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::write(&report, &text).unwrap();
    assert!(
        output.status.success(),
        "schemathesis found contract violations (full report: {}):\n{}",
        report.display(),
        text.chars()
            .rev()
            .take(20_000)
            .collect::<String>()
            .chars()
            .rev()
            .collect::<String>()
    );
}
