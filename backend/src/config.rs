//! Layered configuration: built-in defaults, then an optional TOML file, then `CYLWATCH_*`
//! environment variables (`CYLWATCH_HTTP_ADDR` sets `http_addr`). Unknown keys in the file are
//! an error; unknown `CYLWATCH_*` variables are logged and ignored (the environment is shared).

use anyhow::Context;
use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};

/// A value that never appears in logs or `Debug` output.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    /// Wraps a secret.
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Readable lines.
    Text,
    /// One JSON object a line.
    Json,
}

/// Every setting of the server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// PostgreSQL URL (with PostGIS available in that database).
    pub database_url: Secret<String>,
    /// Largest number of pooled PostgreSQL connections.
    pub database_max_connections: u32,
    /// A streaming replica of `database_url` for lists and history reads; empty: none. Used
    /// only while it lags at most `database_replica_max_lag_ms` (otherwise those reads go to
    /// the primary); statistics and everything else stay on the primary.
    pub database_replica_url: Secret<String>,
    /// How far behind the primary (in time) the replica may be and still serve reads.
    pub database_replica_max_lag_ms: u64,
    /// Redis URL: the event stream and the live fan-out channel.
    pub redis_url: Secret<String>,
    /// The seed nodes of a Redis Cluster (comma-separated URLs) to use instead of `redis_url`;
    /// empty: one Redis at `redis_url`.
    pub redis_cluster_urls: Secret<String>,
    /// Prefix of every Redis key this instance uses; instances of one deployment share it.
    pub redis_prefix: String,
    /// Consumer group of the event pipeline on the stream.
    pub pipeline_group: String,
    /// This instance's consumer name in that group; keep it stable across restarts so that a
    /// restarted instance finishes the entries it had been given.
    pub instance_id: String,
    /// A stream entry whose processing failed this many times (with PostgreSQL answering) goes
    /// to the dead-letter table and is acknowledged.
    pub pipeline_max_attempts: u32,
    /// Entries pending this long on another consumer (a dead instance) are claimed (seconds).
    pub pipeline_claim_idle_s: u64,
    /// How often processed entries are trimmed from the stream (seconds); pending ones stay.
    pub pipeline_trim_every_s: u64,
    /// An event relayed this long ago and still not applied is relayed again (seconds), but
    /// only while every partition's consumers have read everything on their stream (a backlog
    /// is not a loss).
    pub pipeline_relay_again_s: u64,
    /// The event stream is cut into this many partitions by vehicle (else cylinder); each is
    /// consumed by one instance at a time, so a vehicle's events are handled in order whatever
    /// the number of instances. Every instance of a deployment must use the same number.
    pub pipeline_partitions: usize,
    /// An instance holds a partition for this long after its last renewal (milliseconds); a
    /// dead instance's partitions are taken over after it.
    pub pipeline_lease_ms: u64,
    /// Whether the GPS plausibility filters run (off: every fix is applied, newest wins).
    pub gps_filters: bool,
    /// A GPS fix more than this ahead of its receipt is filtered as `future` (seconds).
    pub gps_max_future_s: u64,
    /// A GPS fix more than this behind its receipt is filtered as `far_past` (hours).
    pub gps_max_age_h: u64,
    /// Faster than this from the vehicle's previous fix is a `jump` (km/h).
    pub gps_max_speed_kmh: f64,
    /// Movements up to this far are GPS noise, never jumps (metres).
    pub gps_noise_m: f64,
    /// How often the pipeline looks for new fences (seconds).
    pub fence_reload_s: u64,
    /// Inside a fence this long is a `dwell` transition (seconds).
    pub fence_dwell_s: u64,
    /// Moves within this of where a stop began are standing still (metres).
    pub stop_radius_m: f64,
    /// A loaded vehicle standing this long outside every known site raises `suspicious_stop`
    /// (seconds).
    pub suspicious_stop_s: u64,
    /// A delivery handed over farther than this from the customer's registered place raises
    /// `delivery_off_site` (metres).
    pub delivery_max_distance_m: f64,
    /// How often the lookout looks for silent devices and lost cylinders (seconds).
    pub lookout_every_s: u64,
    /// A device that sent events before and none for this long raises `device_silent` (seconds).
    pub device_silent_s: u64,
    /// A licence or certificate ending within this many days raises `licence_expiring` (once
    /// per licence and end date).
    pub licence_warn_days: u32,
    /// The licence kinds warned of before they end, comma-separated (`filling_licence`,
    /// `gas_licence`, `staff_certificate` ...), or `all`. Every kind raises `licence_expired`.
    pub licence_warn_kinds: String,
    /// How often the licence pass runs (seconds); 0: at start and just after each Beijing
    /// midnight.
    pub licence_pass_every_s: u64,
    /// Alert sightings (which keep one sighting from being counted twice) are forgotten after
    /// this many days; a condition still holding then (a device still silent) counts again.
    pub sighting_retention_days: u32,
    /// How often the wall's figures are pushed on the `stats` topic (seconds).
    pub stats_every_s: u64,
    /// How often the statistics counters are brought up to date in the background
    /// (milliseconds); a figure asked for in between brings them up to date itself.
    pub stats_refresh_every_ms: u64,
    /// host:port to listen on; port 0 picks a free port (printed at start).
    pub http_addr: String,
    /// HTTP worker threads; 0: half the CPUs, at least one (`startup::default_http_workers`).
    /// Each worker has its own filling-decision lane (two fact readers and a decision writer,
    /// each keeping a PostgreSQL connection, added to the pool on top of
    /// `database_max_connections`).
    pub http_workers: usize,
    /// Directory of the built dashboard (trunk's `dist`), served at `/`.
    pub frontend_dir: PathBuf,
    /// District boundaries (GeoJSON FeatureCollection, WGS84) served to the map.
    pub basemap_path: PathBuf,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// A request body must arrive within this many seconds (a client trickling its body
    /// holds a connection, not the server): past it the answer is `408 request_timeout`.
    pub body_read_s: u64,
    /// `tracing` filter, e.g. `info` or `cylwatch=debug,info`.
    pub log: String,
    /// Log lines as `text` (readable) or `json` (one object a line, for a log collector).
    pub log_format: LogFormat,
    /// host:port of the Prometheus `/metrics` listener, apart from the public port (its
    /// per-station and per-rule counts are not public); empty: no metrics listener.
    pub metrics_addr: String,
    /// host:port of the JT/T 808 gateway's TCP listener (vehicle terminals); empty: none.
    pub jt808_addr: String,
    /// A JT/T 808 connection silent this long (no message, not even a heartbeat) is closed.
    pub jt808_idle_s: u64,
    /// JT/T 808 connections held at once at most; more are closed on arrival.
    pub jt808_max_connections: usize,
    /// The MQTT broker (Mosquitto with its dynamic-security plugin), `mqtt://host:port`;
    /// empty: no MQTT (devices speak HTTP and JT/T 808 only).
    pub mqtt_url: String,
    /// The broker's dynamic-security administrator: the platform keeps each device's broker
    /// credentials and ACL in step with the registry through `$CONTROL/dynamic-security/v1`,
    /// and subscribes to the devices' events with these credentials.
    pub mqtt_admin_user: String,
    /// That administrator's password.
    pub mqtt_admin_password: Option<Secret<String>>,
    /// An MQTT session (client id `cylwatch-<instance_id>`) whose holder has not renewed its
    /// lease in PostgreSQL for this many seconds is taken over by a live instance, which
    /// drains the messages the broker queued for it.
    pub mqtt_lease_s: u64,
    /// How often the broker's client list is made equal to the registry's devices (seconds).
    pub mqtt_reconcile_s: u64,
    /// MQTT messages of one session being stored at once (each acknowledged once committed).
    pub mqtt_in_flight: usize,
    /// The 6-digit administrative region code that prefixes QR payloads (seed 002 §5.1.1);
    /// 410100 is Zhengzhou.
    pub region_code: String,
    /// Days without being seen, outside its owner's sites, after which a cylinder is `lost`.
    pub loss_after_days: u32,
    /// A next inspection within this many days makes a cylinder `due_soon`.
    pub due_soon_days: u32,
    /// The first administrator, created (or its password reset) at start when both this and
    /// `admin_password` are set. No default: without them there is no administrator.
    pub admin_user: Option<String>,
    /// The first administrator's password; must meet the password policy.
    pub admin_password: Option<Secret<String>>,
    /// A session with no request for this many minutes ends.
    pub session_idle_minutes: u32,
    /// A session ends this many hours after login at the latest.
    pub session_max_hours: u32,
    /// Live-feed sessions one user may have open at once on one instance; a further one is
    /// refused (`rate_limited`).
    pub live_sessions_per_user: u32,
    /// An open live feed re-checks its sign-in this often (seconds): a logout, a revoked
    /// session or a suspended account ends it within this time.
    pub live_session_check_s: u32,
    /// Sign-in attempts one address may make for one user name (known or not) within
    /// `lockout_minutes`; further attempts from that address are refused until the window ends
    /// (the account itself is never locked: others still sign in). A good sign-in clears it.
    pub max_failed_logins: u32,
    /// The window of `max_failed_logins`, in minutes.
    pub lockout_minutes: u32,
    /// Browser origins allowed to open the WebSocket besides the server's own, comma-separated
    /// (e.g. `https://wall.example.gov.cn`).
    pub allowed_origins: String,
    /// Requests per minute one address may make to the public and login endpoints.
    pub public_rate_per_minute: u32,
    /// CSV lists and exports one user may have running at once; one more is refused
    /// (`429 rate_limited`) until one ends.
    pub exports_per_user: usize,
    /// Refused requests of no one (a junk device key ...) are audited one row for the first of
    /// each source address, route and status in this many seconds, and one row with the count
    /// of the rest when the window ends.
    pub refusal_tally_s: u64,
    /// A mass before filling further than this from the archived tare, or from the cylinder's
    /// own historical mass before filling, is a `tare_mismatch` (kg).
    pub tare_tolerance_kg: f64,
    /// A filling record arriving later than this after the filling ended is late (seconds).
    pub late_filling_s: f64,
    /// A critical alert still unacknowledged this long after it opened is escalated and
    /// pushed again (seconds).
    pub escalate_critical_after_s: u64,
    /// Device keys and stations (with licences) read on every filling decision are kept in
    /// memory this long (seconds; 0: not at all). A revocation through this instance takes
    /// effect at once, through another instance within this time.
    pub registry_cache_s: u64,
    /// Filling decisions in flight at most on one instance; beyond, a question is refused at
    /// once (`E01`) rather than queued past its deadline.
    pub authorize_max_in_flight: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database_url: Secret::new(
                "postgres://cylwatch:cylwatch@127.0.0.1:5432/cylwatch".into(),
            ),
            database_max_connections: 16,
            database_replica_url: Secret::new(String::new()),
            database_replica_max_lag_ms: 5000,
            redis_url: Secret::new("redis://127.0.0.1:6379".into()),
            redis_cluster_urls: Secret::new(String::new()),
            redis_prefix: "cylwatch".into(),
            pipeline_group: "pipeline".into(),
            instance_id: default_instance_id(),
            pipeline_max_attempts: 5,
            pipeline_claim_idle_s: 30,
            pipeline_trim_every_s: 60,
            pipeline_relay_again_s: 300,
            pipeline_partitions: 1,
            pipeline_lease_ms: 10_000,
            gps_filters: true,
            gps_max_future_s: 120,
            gps_max_age_h: 24,
            gps_max_speed_kmh: 180.0,
            gps_noise_m: 200.0,
            fence_reload_s: 2,
            fence_dwell_s: 1200,
            stop_radius_m: 100.0,
            suspicious_stop_s: 1200,
            delivery_max_distance_m: 200.0,
            lookout_every_s: 60,
            device_silent_s: 1800,
            licence_warn_days: 30,
            licence_warn_kinds: "all".into(),
            licence_pass_every_s: 0,
            sighting_retention_days: 7,
            stats_every_s: 5,
            stats_refresh_every_ms: 1000,
            http_addr: "127.0.0.1:8080".into(),
            http_workers: 0,
            frontend_dir: PathBuf::from("dist"),
            basemap_path: PathBuf::from("assets/basemap/zhengzhou_districts.wgs84.geojson"),
            max_body_bytes: 16 * 1024 * 1024,
            body_read_s: 30,
            log: "info".into(),
            log_format: LogFormat::Text,
            metrics_addr: String::new(),
            jt808_addr: String::new(),
            jt808_idle_s: 300,
            jt808_max_connections: 20_000,
            mqtt_url: String::new(),
            mqtt_admin_user: "cylwatch".into(),
            mqtt_admin_password: None,
            mqtt_lease_s: 15,
            mqtt_reconcile_s: 60,
            mqtt_in_flight: 64,
            region_code: "410100".into(),
            loss_after_days: 90,
            due_soon_days: 30,
            admin_user: None,
            admin_password: None,
            session_idle_minutes: 30,
            session_max_hours: 12,
            live_sessions_per_user: 8,
            live_session_check_s: 60,
            max_failed_logins: 5,
            lockout_minutes: 15,
            allowed_origins: String::new(),
            public_rate_per_minute: 120,
            exports_per_user: 2,
            refusal_tally_s: 60,
            tare_tolerance_kg: 1.0,
            late_filling_s: 10.0,
            escalate_critical_after_s: 300,
            registry_cache_s: 5,
            authorize_max_in_flight: 128,
        }
    }
}

fn default_instance_id() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "cylwatch".into())
}

/// Environment variables that are not settings (read elsewhere).
const NOT_SETTINGS: [&str; 1] = ["CYLWATCH_CONFIG"];
// CYLWATCH_SIM_DEVICE_KEY belongs to the simulator; the server logs it as ignored.

impl Settings {
    /// Defaults, then `file` (if given), then the process environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<(Self, Vec<String>)> {
        Self::load_from(file, std::env::vars())
    }

    /// As `load`, with the environment given; returns the ignored variable names too.
    pub fn load_from(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> anyhow::Result<(Self, Vec<String>)> {
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading config file {}", path.display()))?;
                toml::from_str::<toml::Table>(&text)
                    .with_context(|| format!("parsing config file {}", path.display()))?
            }
            None => toml::Table::new(),
        };
        // Check the file's keys before the environment adds its own.
        toml::Value::Table(table.clone())
            .try_into::<Settings>()
            .context("config file")?;
        let mut ignored = Vec::new();
        for (name, value) in env {
            let Some(key) = name.strip_prefix("CYLWATCH_") else {
                continue;
            };
            let key = key.to_ascii_lowercase();
            if NOT_SETTINGS.contains(&name.as_str()) {
                continue;
            }
            if !KEYS.contains(&key.as_str()) {
                ignored.push(name);
                continue;
            }
            let value = if TEXT_KEYS.contains(&key.as_str()) {
                toml::Value::String(value)
            } else {
                env_value(&value)
            };
            table.insert(key, value);
        }
        let settings = toml::Value::Table(table)
            .try_into::<Settings>()
            .context("settings from CYLWATCH_* environment variables")?;
        Ok((settings, ignored))
    }
}

/// The settings' names, as they appear in the file and (upper-cased) in the environment.
const KEYS: [&str; 71] = [
    "database_url",
    "database_max_connections",
    "database_replica_url",
    "database_replica_max_lag_ms",
    "redis_url",
    "redis_cluster_urls",
    "redis_prefix",
    "pipeline_group",
    "instance_id",
    "pipeline_max_attempts",
    "pipeline_claim_idle_s",
    "pipeline_trim_every_s",
    "pipeline_relay_again_s",
    "pipeline_partitions",
    "pipeline_lease_ms",
    "gps_filters",
    "gps_max_future_s",
    "gps_max_age_h",
    "gps_max_speed_kmh",
    "gps_noise_m",
    "fence_reload_s",
    "fence_dwell_s",
    "stop_radius_m",
    "suspicious_stop_s",
    "delivery_max_distance_m",
    "lookout_every_s",
    "device_silent_s",
    "licence_warn_days",
    "licence_warn_kinds",
    "licence_pass_every_s",
    "sighting_retention_days",
    "stats_every_s",
    "stats_refresh_every_ms",
    "http_addr",
    "http_workers",
    "frontend_dir",
    "basemap_path",
    "max_body_bytes",
    "body_read_s",
    "log",
    "log_format",
    "metrics_addr",
    "jt808_addr",
    "jt808_idle_s",
    "jt808_max_connections",
    "mqtt_url",
    "mqtt_admin_user",
    "mqtt_admin_password",
    "mqtt_lease_s",
    "mqtt_reconcile_s",
    "mqtt_in_flight",
    "region_code",
    "loss_after_days",
    "due_soon_days",
    "admin_user",
    "admin_password",
    "session_idle_minutes",
    "session_max_hours",
    "live_sessions_per_user",
    "live_session_check_s",
    "max_failed_logins",
    "lockout_minutes",
    "allowed_origins",
    "public_rate_per_minute",
    "exports_per_user",
    "refusal_tally_s",
    "tare_tolerance_kg",
    "late_filling_s",
    "escalate_critical_after_s",
    "registry_cache_s",
    "authorize_max_in_flight",
];

/// Settings that are text even when they look like a number (`CYLWATCH_REGION_CODE=410100`).
const TEXT_KEYS: [&str; 22] = [
    "database_replica_url",
    "log_format",
    "mqtt_url",
    "mqtt_admin_user",
    "mqtt_admin_password",
    "metrics_addr",
    "jt808_addr",
    "database_url",
    "redis_url",
    "redis_cluster_urls",
    "redis_prefix",
    "pipeline_group",
    "instance_id",
    "http_addr",
    "frontend_dir",
    "basemap_path",
    "log",
    "region_code",
    "admin_user",
    "admin_password",
    "allowed_origins",
    "licence_warn_kinds",
];

/// An environment value is a TOML literal when it parses as one (`16`, `true`), text otherwise.
fn env_value(raw: &str) -> toml::Value {
    format!("v = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .filter(|v| !matches!(v, toml::Value::Table(_) | toml::Value::Array(_)))
        .unwrap_or_else(|| toml::Value::String(raw.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn layers_defaults_file_env() -> anyhow::Result<()> {
        let mut file = tempfile::NamedTempFile::new()?;
        writeln!(
            file,
            "http_addr = \"0.0.0.0:9000\"\ndatabase_max_connections = 4"
        )?;
        let (s, ignored) = Settings::load_from(
            Some(file.path()),
            env(&[
                ("CYLWATCH_DATABASE_MAX_CONNECTIONS", "8"),
                ("CYLWATCH_REDIS_PREFIX", "t1"),
                ("CYLWATCH_ADMIN_USER", "root"),
                ("CYLWATCH_SIM_DEVICE_KEY", "k"),
                ("PATH", "/bin"),
            ]),
        )?;
        assert_eq!(s.http_addr, "0.0.0.0:9000");
        assert_eq!(s.database_max_connections, 8);
        assert_eq!(s.redis_prefix, "t1");
        assert_eq!(s.pipeline_group, "pipeline");
        assert_eq!(s.admin_user.as_deref(), Some("root"));
        assert_eq!(ignored, vec!["CYLWATCH_SIM_DEVICE_KEY".to_owned()]);
        Ok(())
    }

    #[test]
    fn rejects_unknown_file_keys_and_bad_types() -> anyhow::Result<()> {
        let mut file = tempfile::NamedTempFile::new()?;
        writeln!(file, "htp_addr = \"x\"")?;
        assert!(Settings::load_from(Some(file.path()), env(&[])).is_err());
        let bad = Settings::load_from(None, env(&[("CYLWATCH_DATABASE_MAX_CONNECTIONS", "many")]));
        assert!(bad.is_err());
        Ok(())
    }

    #[test]
    fn every_key_is_a_setting() -> anyhow::Result<()> {
        // Each name in KEYS must be a field: the file layer rejects unknown keys.
        for key in KEYS {
            let value = match key {
                "log_format" => "json",
                k if TEXT_KEYS.contains(&k) => "x",
                "gps_filters" => "true",
                _ => "3",
            };
            let (s, ignored) = Settings::load_from(
                None,
                env(&[(&format!("CYLWATCH_{}", key.to_uppercase()), value)]),
            )?;
            assert!(ignored.is_empty(), "{key}");
            assert_eq!(s.redis_prefix == "x", key == "redis_prefix");
        }
        Ok(())
    }

    #[test]
    fn log_lines_are_text_or_json_and_nothing_else() -> anyhow::Result<()> {
        let (s, _) = Settings::load_from(None, env(&[("CYLWATCH_LOG_FORMAT", "json")]))?;
        assert_eq!(s.log_format, LogFormat::Json);
        assert_eq!(Settings::default().log_format, LogFormat::Text);
        assert!(Settings::load_from(None, env(&[("CYLWATCH_LOG_FORMAT", "xml")])).is_err());
        Ok(())
    }

    #[test]
    fn text_settings_stay_text() -> anyhow::Result<()> {
        let (s, _) = Settings::load_from(None, env(&[("CYLWATCH_REGION_CODE", "410100")]))?;
        assert_eq!(s.region_code, "410100");
        Ok(())
    }

    #[test]
    fn secrets_are_redacted() {
        let s = Settings::default();
        assert!(!format!("{s:?}").contains("cylwatch:cylwatch@"));
    }
}
