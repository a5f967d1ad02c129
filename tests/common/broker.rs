//! A Mosquitto broker of a test's own (Debian's `mosquitto` with its dynamic-security
//! plugin): its own port, its own dynsec JSON in a temp dir, an administrator whose password
//! it makes up. Killed when dropped. `scripts/setup` installs Mosquitto.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};
use uuid::Uuid;

/// The dynamic-security plugin as Debian ships it.
pub const DYNSEC_PLUGIN: &str = "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so";

pub struct Broker {
    child: Child,
    pub port: u16,
    pub admin_user: String,
    pub admin_password: String,
    pub dir: tempfile::TempDir,
}

impl Broker {
    /// Starts a broker and waits until it accepts connections.
    pub async fn start() -> Broker {
        let dir = tempfile::tempdir().expect("a temp dir for the broker");
        let admin_user = "cylwatch".to_owned();
        let admin_password = Uuid::new_v4().simple().to_string();
        let dynsec = dir.path().join("dynsec.json");
        let init = Command::new("mosquitto_ctrl")
            .args(["dynsec", "init"])
            .arg(&dynsec)
            .args([&admin_user, &admin_password])
            .stdout(Stdio::null())
            .status()
            .await
            .expect("mosquitto_ctrl (Debian's mosquitto; run scripts/setup)");
        assert!(init.success(), "mosquitto_ctrl dynsec init failed");
        for _ in 0..5 {
            let port = super::free_port();
            let conf = dir.path().join("mosquitto.conf");
            std::fs::write(
                &conf,
                format!(
                    "per_listener_settings false\nlistener {port} 127.0.0.1\n\
                     allow_anonymous false\nplugin {DYNSEC_PLUGIN}\n\
                     plugin_opt_config_file {}\npersistence false\n\
                     max_queued_messages 1000000\nmax_inflight_messages 100\n\
                     log_dest file {}\nlog_type error\nlog_type warning\nlog_type notice\n\
                     log_type information\n",
                    dynsec.display(),
                    dir.path().join("mosquitto.log").display()
                ),
            )
            .expect("writing the broker's config");
            let mut child = Command::new("mosquitto")
                .arg("-c")
                .arg(&conf)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .expect("starting mosquitto (run scripts/setup)");
            for _ in 0..50 {
                if tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .is_ok()
                {
                    return Broker {
                        child,
                        port,
                        admin_user,
                        admin_password,
                        dir,
                    };
                }
                if let Ok(Some(_)) = child.try_wait() {
                    break; // the port was taken meanwhile: another one
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let _ = child.kill().await;
        }
        panic!("mosquitto did not start");
    }

    /// The server's settings for this broker.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            (
                "CYLWATCH_MQTT_URL".into(),
                format!("mqtt://127.0.0.1:{}", self.port),
            ),
            ("CYLWATCH_MQTT_ADMIN_USER".into(), self.admin_user.clone()),
            (
                "CYLWATCH_MQTT_ADMIN_PASSWORD".into(),
                self.admin_password.clone(),
            ),
        ]
    }

    /// The broker's log (connections refused, clients kicked ...).
    pub fn log(&self) -> PathBuf {
        self.dir.path().join("mosquitto.log")
    }

    /// `mosquitto_pub` (Debian's client) as a device, MQTT 5 (a refused publish's PUBACK
    /// carries its reason), with `-d`: its output names each PUBACK's reason code. Extra
    /// arguments say what to publish (`-m`, `-l`, `-f` ...).
    pub fn publish(&self, device_id: &str, key: &str, topic: &str) -> Command {
        let mut cmd = Command::new("mosquitto_pub");
        cmd.args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-V", "mqttv5", "-q", "1", "-d"])
            .args([
                "-i",
                &format!("{device_id}-pub"),
                "-u",
                device_id,
                "-P",
                key,
            ])
            .args(["-t", topic])
            .kill_on_drop(true);
        cmd
    }

    /// `mosquitto_sub` as a device on `topic`: exits after `count` messages or `wait_s`.
    pub fn subscribe(
        &self,
        device_id: &str,
        key: &str,
        topic: &str,
        count: usize,
        wait_s: u32,
    ) -> Command {
        let mut cmd = Command::new("mosquitto_sub");
        cmd.args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args([
                "-q",
                "1",
                "-C",
                &count.to_string(),
                "-W",
                &wait_s.to_string(),
            ])
            .args([
                "-i",
                &format!("{device_id}-sub"),
                "-u",
                device_id,
                "-P",
                key,
            ])
            .args(["-t", topic])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        cmd
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}
