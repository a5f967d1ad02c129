//! Backup and restore (issue 24): the README's procedure — `pg_dump -Fc` of the database, then
//! `pg_restore` into a new, empty database — and a server started on the restore with an empty
//! Redis (a prefix nothing has used) shows the same vehicle positions, cylinder states,
//! statistics and open alerts as the original. PostgreSQL is the truth; Redis holds nothing a
//! restore needs.

use crate::common::{
    admin_database_url, spawn_app_with, spawn_bare, workspace, AppConfig, TestApp, TestDb,
    ADMIN_PASSWORD, ADMIN_USER,
};
use crate::live::{connect, next_json};
use serde_json::Value;
use sqlx::{Connection, Executor, PgConnection, PgPool};
use std::path::PathBuf;
use std::time::Duration;

/// A PostgreSQL 15 client program (`pg_dump`, `pg_restore`): on PATH, else Debian's place.
fn pg_program(name: &str) -> PathBuf {
    let debian = PathBuf::from("/usr/lib/postgresql/15/bin").join(name);
    if debian.exists() {
        debian
    } else {
        PathBuf::from(name)
    }
}

/// What a restore must give back, read through the API as the administrator.
async fn picture(app: &TestApp) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for path in [
        "/api/v1/stats/inventory",
        "/api/v1/cylinders?limit=1000",
        "/api/v1/alerts?status=open&limit=500",
        "/api/v1/alerts?status=acknowledged&limit=500",
        "/api/v1/stats/fillings",
        "/api/v1/stats/vehicle-loads",
    ] {
        let (status, mut body) = app.get_json(path).await;
        assert_eq!(status, 200, "{path}: {body}");
        strip_volatile(&mut body);
        out.push((path.to_owned(), body));
    }
    let mut ws = connect(app).await;
    let mut snapshot = next_json(&mut ws).await;
    assert_eq!(snapshot["type"], "snapshot");
    strip_volatile(&mut snapshot);
    out.push(("live snapshot".to_owned(), snapshot));
    out
}

/// Drops what differs between two reads of the same facts (the time of the read, and the
/// drill-down links whose windows end at it).
fn strip_volatile(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for key in ["at", "generated_at", "as_of", "now", "links", "link"] {
                map.remove(key);
            }
            map.values_mut().for_each(strip_volatile);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_volatile),
        _ => {}
    }
}

async fn run(program: &str, args: &[&str]) {
    let out = tokio::process::Command::new(pg_program(program))
        .args(args)
        .output()
        .await
        .unwrap_or_else(|e| panic!("running {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn a_restored_database_with_an_empty_redis_gives_the_same_picture() {
    // The daily licence pass every second: the picture before the backup already holds the
    // alerts a pass raises (the restored server runs one at start).
    let mut config = AppConfig::default();
    config
        .env
        .push(("CYLWATCH_LICENCE_PASS_EVERY_S".into(), "1".into()));
    let app = spawn_app_with(config.clone(), TestDb::new().await).await;
    // A small simulated city: positions, custody, fillings, alerts.
    let run_sim = tokio::process::Command::new(crate::common::sim_binary())
        .args(["simulate", "--api", &app.base, "--admin-user", ADMIN_USER])
        .args(["--admin-password", ADMIN_PASSWORD, "--seed", "24"])
        .args(["--enterprises", "2", "--stations", "4", "--vehicles", "4"])
        .args([
            "--customers",
            "40",
            "--cylinders",
            "200",
            "--duration-s",
            "900",
        ])
        .args(["--speed", "0", "--anomaly-every-s", "60"])
        .arg("--basemap")
        .arg(workspace().join("assets/basemap/zhengzhou_districts.wgs84.geojson"))
        .output()
        .await
        .expect("running the simulator");
    assert!(
        run_sim.status.success(),
        "simulator: {}",
        String::from_utf8_lossy(&run_sim.stderr)
    );
    // Everything acknowledged is applied (the outbox drained) before the backup.
    let pool = app.db.pool.clone();
    app.wait_until(|| async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM event_outbox WHERE NOT dead")
            .fetch_one(&pool)
            .await
            .is_ok_and(|n| n == 0)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = picture(&app).await;
    let open_alerts = before[2].1["items"].as_array().map_or(0, Vec::len);
    assert!(open_alerts > 0, "the city raised no alert: {}", before[2].1);

    // The procedure: a custom-format dump, restored into a new, empty database.
    let dump = crate::common::output_dir().join(format!("{}.dump", app.db.name));
    let dump_s = dump.to_string_lossy().to_string();
    run(
        "pg_dump",
        &[
            "-Fc",
            "--no-owner",
            "--exclude-table-data=public.spatial_ref_sys",
            "-f",
            &dump_s,
            "-d",
            &app.db.url,
        ],
    )
    .await;
    let name = format!("{}_restored", app.db.name);
    let admin = admin_database_url();
    let mut conn = PgConnection::connect(&admin).await.unwrap();
    conn.execute(format!("CREATE DATABASE \"{name}\" TEMPLATE cylwatch_template").as_str())
        .await
        .unwrap();
    let base = admin.rsplit_once('/').map(|(b, _)| b.to_owned()).unwrap();
    let url = format!("{base}/{name}");
    run(
        "pg_restore",
        &[
            "--no-owner",
            "--no-comments",
            "--exit-on-error",
            "-d",
            &url,
            &dump_s,
        ],
    )
    .await;
    let restored = TestDb {
        pool: PgPool::connect(&url).await.unwrap(),
        name,
        url,
    };
    let admin_token = app.admin_token.clone();
    let (_, _db) = app.kill().await;

    // The server on the restore, with a Redis prefix nothing has used (an empty Redis).
    let fresh = AppConfig {
        redis_prefix: format!("{}-restored", config.redis_prefix),
        ..config
    };
    let mut again = spawn_bare(fresh, restored).await;
    again.admin_token = admin_token;
    let after = picture(&again).await;
    for ((path, a), (_, b)) in before.iter().zip(&after) {
        assert_eq!(a, b, "{path} differs after the restore");
    }
}
