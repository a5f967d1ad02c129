//! The JT/T 808 gateway over a real socket: a terminal written with the codec crate registers,
//! authenticates and reports to the real binary; positions reach the pipeline and the live feed.

use crate::common::{spawn_app_with, AppConfig, TestApp, TestDb};
use crate::live::{connect, until};
use chrono::{Duration as Span, TimeZone, Utc};
use cylwatch_jt808::message::{id, status, Body, Location, Message, ResultCode};
use cylwatch_jt808::{decode_frame, Header, Register, Splitter, Version};
use serde_json::json;
use std::collections::VecDeque;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PLATE: &str = "豫A80801";
const NO_2013: &str = "013912345678";
const NO_2019: &str = "00000000013912340000";

async fn gateway_app() -> TestApp {
    let mut config = AppConfig::default();
    config
        .env
        .push(("CYLWATCH_JT808_ADDR".into(), "127.0.0.1:0".into()));
    config
        .env
        .push(("CYLWATCH_JT808_IDLE_S".into(), "30".into()));
    let app = spawn_app_with(config, TestDb::new().await).await;
    let (status, body) = app
        .post_json(
            "/api/v1/vehicles",
            &json!({"plate": PLATE, "enterprise_code": "ENT1"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    app
}

async fn add_terminal(app: &TestApp, device_id: &str, terminal_no: &str) {
    let (status, body) = app
        .post_json(
            "/api/v1/devices",
            &json!({"device_id": device_id, "kind": "jt808", "terminal_no": terminal_no,
                    "enterprise_code": "ENT1", "vehicle_plate": PLATE}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

/// A vehicle terminal: speaks the codec over a TCP socket.
struct Terminal {
    stream: TcpStream,
    splitter: Splitter,
    version: Version,
    no: String,
    serial: u16,
    inbox: VecDeque<Message>,
}

impl Terminal {
    async fn connect(app: &TestApp, no: &str) -> Terminal {
        let port = app.jt808_port.expect("the gateway is on");
        let version = if no.len() == 20 {
            Version::V2019 { protocol: 1 }
        } else {
            Version::V2013
        };
        Terminal {
            stream: TcpStream::connect(("127.0.0.1", port)).await.unwrap(),
            splitter: Splitter::new(),
            version,
            no: no.into(),
            serial: 0,
            inbox: VecDeque::new(),
        }
    }

    /// A new connection for the same terminal (its serial numbers go on).
    async fn reconnect(&mut self, app: &TestApp) {
        let port = app.jt808_port.expect("the gateway is on");
        self.stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        self.splitter = Splitter::new();
        self.inbox.clear();
    }

    fn message(&mut self, msg_id: u16, body: Body) -> Message {
        self.serial += 1;
        let header = Header {
            msg_id,
            version: self.version,
            terminal_no: self.no.clone(),
            serial: self.serial,
            encryption: 0,
            packet: None,
        };
        Message { header, body }
    }

    async fn send(&mut self, msg_id: u16, body: Body) -> u16 {
        let m = self.message(msg_id, body);
        self.write(&m.to_frame().unwrap()).await;
        m.header.serial
    }

    async fn write(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    /// The next message from the platform, within 10 s.
    async fn recv(&mut self) -> Message {
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                if let Some(m) = self.inbox.pop_front() {
                    return m;
                }
                let mut buf = [0u8; 2048];
                let n = self.stream.read(&mut buf).await.unwrap();
                assert!(n > 0, "the platform closed the connection");
                let mut frames = Vec::new();
                self.splitter
                    .push(&buf[..n], |f| frames.push(f.unwrap().to_vec()));
                for f in frames {
                    let inner = decode_frame(&f).unwrap();
                    let (header, body) = Header::parse(&inner).unwrap();
                    let body = Body::parse(&header, body).unwrap();
                    self.inbox.push_back(Message { header, body });
                }
            }
        })
        .await
        .expect("an answer within 10 s")
    }

    /// Sends and reads the general answer to it.
    async fn ask(&mut self, msg_id: u16, body: Body) -> ResultCode {
        let serial = self.send(msg_id, body).await;
        self.result_of(serial, msg_id).await
    }

    async fn result_of(&mut self, serial: u16, msg_id: u16) -> ResultCode {
        match self.recv().await.body {
            Body::PlatformResponse {
                reply_serial,
                reply_id,
                result,
            } => {
                assert_eq!((reply_serial, reply_id), (serial, msg_id));
                result
            }
            other => panic!("expected a general response, got {other:?}"),
        }
    }

    async fn register(&mut self) -> (u8, Option<String>) {
        let reg = Register {
            province: 41,
            city: 100,
            maker: b"CYLW".to_vec(),
            model: b"T-808".to_vec(),
            terminal_id: b"T1".to_vec(),
            plate_colour: 2,
            plate: Vec::new(),
        };
        let serial = self.send(id::REGISTER, Body::Register(reg)).await;
        match self.recv().await.body {
            Body::RegisterResponse {
                reply_serial,
                result,
                auth_code,
            } => {
                assert_eq!(reply_serial, serial);
                (result, auth_code)
            }
            other => panic!("expected 0x8100, got {other:?}"),
        }
    }

    async fn authenticate(&mut self, code: &str) -> ResultCode {
        let v2019 = matches!(self.version, Version::V2019 { .. });
        let body = Body::Authenticate {
            code: code.into(),
            imei: v2019.then(|| "860000000000001".into()),
            software: v2019.then(|| "1.0".into()),
        };
        self.ask(id::AUTHENTICATE, body).await
    }

    /// Registers and authenticates.
    async fn sign_in(&mut self) {
        let (result, code) = self.register().await;
        assert_eq!(result, 0);
        assert_eq!(self.authenticate(&code.unwrap()).await, ResultCode::Success);
    }

    /// Whether the platform closes the connection within 10 s.
    async fn closed(&mut self) -> bool {
        tokio::time::timeout(Duration::from_secs(10), async {
            let mut buf = [0u8; 512];
            loop {
                match self.stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return true,
                    Ok(_) => continue,
                }
            }
        })
        .await
        .unwrap_or(false)
    }
}

/// A fix at `lon_e6`, `lat_e6` (micro-degrees, as the standard writes them).
fn fix(lon_e6: u32, lat_e6: u32, at: chrono::DateTime<Utc>) -> Location {
    Location {
        alarm: 0,
        status: status::POSITIONED | status::ACC_ON,
        lat_e6,
        lon_e6,
        altitude_m: 100,
        speed_dkmh: 350,
        direction: 90,
        time: at,
        extras: Vec::new(),
    }
}

async fn position(app: &TestApp) -> Option<(f64, f64, chrono::DateTime<Utc>)> {
    sqlx::query_as(
        "SELECT ST_X(location), ST_Y(location), occurred_at FROM vehicle_positions WHERE plate = $1",
    )
    .bind(PLATE)
    .fetch_optional(&app.db.pool)
    .await
    .unwrap()
}

async fn gps_events(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events WHERE kind = 'gps' AND device_id = 'T-808-1'")
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

fn close(a: f64, e6: u32) -> bool {
    (a - f64::from(e6) / 1e6).abs() < 1e-6
}

/// Now less `seconds`, in whole seconds (BCD times have no fractions).
fn ago(seconds: i64) -> chrono::DateTime<Utc> {
    Utc.timestamp_opt(Utc::now().timestamp() - seconds, 0)
        .unwrap()
}

/// Register, authenticate, report: the fix is answered after it is committed, becomes the
/// vehicle's GPS event with the terminal as the device, reaches the pipeline and the live
/// feed; the same fix sent again is a duplicate; the terminal is its vehicle's GPS device.
#[tokio::test]
async fn a_terminal_registers_authenticates_and_reports() {
    let app = gateway_app().await;
    add_terminal(&app, "T-808-1", NO_2013).await;
    let (_, vehicle) = app.get_json(&format!("/api/v1/vehicles/{PLATE}")).await;
    assert_eq!(vehicle["gps_device_id"], "T-808-1", "{vehicle}");
    let mut live = connect(&app).await;

    let mut t = Terminal::connect(&app, NO_2013).await;
    // A location before authentication is refused and stores nothing.
    let at = ago(30);
    assert_eq!(
        t.ask(
            id::LOCATION,
            Body::Location(fix(113_650_000, 34_760_000, at))
        )
        .await,
        ResultCode::Failure
    );
    assert_eq!(gps_events(&app).await, 0);
    t.sign_in().await;
    assert_eq!(
        t.ask(id::HEARTBEAT, Body::Heartbeat).await,
        ResultCode::Success
    );
    assert_eq!(
        t.ask(
            id::LOCATION,
            Body::Location(fix(113_650_000, 34_760_000, at))
        )
        .await,
        ResultCode::Success
    );
    // Answered only after the commit: the event is there the moment the answer is.
    assert_eq!(gps_events(&app).await, 1);
    let update = until(&mut live, |m| m["type"] == "vehicle" && m["plate"] == PLATE).await;
    assert!(
        close(update["lon"].as_f64().unwrap(), 113_650_000),
        "{update}"
    );
    // Sent again (no answer reached the terminal): recognised, not stored twice.
    assert_eq!(
        t.ask(
            id::LOCATION,
            Body::Location(fix(113_650_000, 34_760_000, at))
        )
        .await,
        ResultCode::Success
    );
    assert_eq!(gps_events(&app).await, 1);
    app.wait_until(|| async {
        position(&app)
            .await
            .is_some_and(|(lon, _, _)| close(lon, 113_650_000))
    })
    .await;
    // Without a fix (status bit 1 clear) the vehicle keeps its last position.
    let mut lost = fix(0, 0, at + Span::seconds(10));
    lost.status &= !status::POSITIONED;
    assert_eq!(
        t.ask(id::LOCATION, Body::Location(lost)).await,
        ResultCode::Success
    );
    assert_eq!(gps_events(&app).await, 1);
    // South and west bits and the stored time (BCD, Beijing time) read as the standard says.
    let stored: serde_json::Value =
        sqlx::query_scalar("SELECT payload FROM events WHERE device_id = 'T-808-1'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(stored["occurred_at"].as_str().unwrap()).unwrap(),
        at.with_timezone(&cylwatch_jt808::bcd::beijing())
    );
    assert!(
        (stored["speed_kmh"].as_f64().unwrap() - 35.0).abs() < 1e-9,
        "{stored}"
    );
    // An unsupported message is answered so.
    assert_eq!(
        t.ask(0x0900, Body::Unsupported(vec![1, 2, 3])).await,
        ResultCode::Unsupported
    );
}

/// An unknown terminal cannot register or authenticate; a revoked one is cut off and cannot
/// come back; one connection cannot speak for another terminal.
#[tokio::test]
async fn unknown_and_revoked_terminals_are_refused() {
    let app = gateway_app().await;
    let mut stranger = Terminal::connect(&app, "099999999999").await;
    assert_eq!(stranger.register().await, (4, None));
    assert_eq!(stranger.authenticate("guess").await, ResultCode::Failure);

    // Bad registrations: each a 4xx naming the field, nothing stored.
    let mut other = crate::common::enterprise("ENT2");
    other["district_code"] = json!("410102");
    assert_eq!(app.post_json("/api/v1/enterprises", &other).await.0, 201);
    let (status, body) = app
        .post_json(
            "/api/v1/vehicles",
            &json!({"plate": "豫A-ENT2", "enterprise_code": "ENT2"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    for (device, field) in [
        (
            json!({"device_id": "X1", "kind": "jt808", "enterprise_code": "ENT1", "vehicle_plate": PLATE}),
            "terminal_no",
        ),
        (
            json!({"device_id": "X1", "kind": "jt808", "terminal_no": "12345", "enterprise_code": "ENT1", "vehicle_plate": PLATE}),
            "terminal_no",
        ),
        (
            json!({"device_id": "X1", "kind": "jt808", "terminal_no": NO_2013, "enterprise_code": "ENT1"}),
            "vehicle_plate",
        ),
        (
            json!({"device_id": "X1", "kind": "gps", "terminal_no": NO_2013, "enterprise_code": "ENT1"}),
            "terminal_no",
        ),
        // Another enterprise's vehicle is no vehicle of this one.
        (
            json!({"device_id": "X1", "kind": "jt808", "terminal_no": NO_2013, "enterprise_code": "ENT1", "vehicle_plate": "豫A-ENT2"}),
            "vehicle_plate",
        ),
    ] {
        let (status, body) = app.post_json("/api/v1/devices", &device).await;
        assert!((400..500).contains(&status), "{device}: {status} {body}");
        assert_eq!(body["error"]["field"], field, "{device}: {body}");
    }
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM devices WHERE device_id = 'X1'")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(stored, 0);

    add_terminal(&app, "T-808-1", NO_2013).await;
    // One terminal number, one device.
    let (status, body) = app
        .post_json(
            "/api/v1/devices",
            &json!({"device_id": "T-808-2", "kind": "jt808", "terminal_no": NO_2013,
                    "enterprise_code": "ENT1", "vehicle_plate": PLATE}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (409, Some("terminal_no")),
        "{body}"
    );
    let mut t = Terminal::connect(&app, NO_2013).await;
    let (_, code) = t.register().await;
    let code = code.unwrap();
    assert_eq!(t.authenticate("wrong-code").await, ResultCode::Failure);
    assert_eq!(t.authenticate(&code).await, ResultCode::Success);
    // Registering again hands out a new code; the old one stops working.
    let mut again = Terminal::connect(&app, NO_2013).await;
    let (_, newer) = again.register().await;
    assert_ne!(newer.as_deref(), Some(code.as_str()));
    assert_eq!(again.authenticate(&code).await, ResultCode::Failure);

    let (status, body) = app
        .post_json("/api/v1/devices/T-808-1/revoke", &json!({}))
        .await;
    assert_eq!(status, 204, "{body}");
    assert!(
        t.closed().await,
        "a revoked terminal's connection is closed"
    );
    let mut back = Terminal::connect(&app, NO_2013).await;
    assert_eq!(back.register().await, (4, None));
    assert_eq!(
        back.authenticate(&newer.unwrap()).await,
        ResultCode::Failure
    );
}

/// Frames split across reads and several frames in one read both decode; a blind-area batch
/// of 50 fixes sent in packets arrives whole, in order of time; the 2019 edition works.
#[tokio::test]
async fn frames_however_cut_and_a_blind_area_batch_arrive() {
    let app = gateway_app().await;
    add_terminal(&app, "T-808-1", NO_2019).await;
    let mut t = Terminal::connect(&app, NO_2019).await;
    t.sign_in().await;
    let t0 = ago(1800);
    // Two heartbeats and a location in one write, then a location byte by byte.
    let mut wire = Vec::new();
    let mut serials = Vec::new();
    for (msg_id, body) in [
        (id::HEARTBEAT, Body::Heartbeat),
        (id::HEARTBEAT, Body::Heartbeat),
        (
            id::LOCATION,
            Body::Location(fix(113_600_000, 34_700_000, t0)),
        ),
    ] {
        let m = t.message(msg_id, body);
        serials.push((m.header.serial, msg_id));
        wire.extend_from_slice(&m.to_frame().unwrap());
    }
    t.write(&wire).await;
    for (serial, msg_id) in serials {
        assert_eq!(t.result_of(serial, msg_id).await, ResultCode::Success);
    }
    let m = t.message(
        id::LOCATION,
        Body::Location(fix(113_610_000, 34_700_000, t0 + Span::seconds(5))),
    );
    for b in m.to_frame().unwrap() {
        t.write(&[b]).await;
    }
    assert_eq!(
        t.result_of(m.header.serial, id::LOCATION).await,
        ResultCode::Success
    );

    // 50 fixes, sent newest first, in packets of at most 300 bytes.
    let fixes: Vec<Location> = (0..50)
        .rev()
        .map(|i| {
            fix(
                113_620_000 + i * 1_000,
                34_700_000,
                t0 + Span::seconds(60 + i64::from(i) * 10),
            )
        })
        .collect();
    let m = t.message(
        id::LOCATION_BATCH,
        Body::LocationBatch {
            blind_area: true,
            fixes,
        },
    );
    let packets = m.encode(300).unwrap();
    assert!(packets.len() > 2, "sent in packets");
    t.serial += u16::try_from(packets.len() - 1).unwrap();
    for p in &packets {
        t.write(p).await;
    }
    for _ in 0..packets.len() {
        assert!(matches!(
            t.recv().await.body,
            Body::PlatformResponse {
                result: ResultCode::Success,
                ..
            }
        ));
    }
    assert_eq!(gps_events(&app).await, 52);
    let newest = t0 + Span::seconds(60 + 49 * 10);
    app.wait_until(|| async {
        position(&app)
            .await
            .is_some_and(|(lon, _, at)| close(lon, 113_620_000 + 49 * 1_000) && at == newest)
    })
    .await;
    // The track holds the batch in order of time.
    let times: Vec<chrono::DateTime<Utc>> = sqlx::query_scalar(
        "SELECT occurred_at FROM events WHERE device_id = 'T-808-1' ORDER BY occurred_at",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(times.len(), 52);
    assert_eq!(times.last(), Some(&newest));
}

/// Bad frames: a readable header with a bad body is answered "message error"; frames that
/// cannot be read at all (check code, garbage) close the connection after a few.
#[tokio::test]
async fn bad_frames_are_answered_or_the_connection_closed() {
    let app = gateway_app().await;
    add_terminal(&app, "T-808-1", NO_2013).await;
    let mut t = Terminal::connect(&app, NO_2013).await;
    t.sign_in().await;
    // A location body cut short: its header is fine.
    let m = t.message(id::LOCATION, Body::Unsupported(vec![0, 0, 0, 1, 0, 0]));
    t.write(&m.to_frame().unwrap()).await;
    assert_eq!(
        t.result_of(m.header.serial, id::LOCATION).await,
        ResultCode::MessageError
    );
    // A speed no vehicle drives (above 400 km/h): refused by the same parser as HTTP.
    let mut wild = fix(113_600_000, 34_700_000, ago(0));
    wild.speed_dkmh = 9000;
    assert_eq!(
        t.ask(id::LOCATION, Body::Location(wild)).await,
        ResultCode::MessageError
    );
    assert_eq!(gps_events(&app).await, 0);
    // Wrong check codes and garbage: no answer, and the connection is closed after a few.
    for _ in 0..cylwatch::gateway::jt808::MAX_BAD_FRAMES {
        let mut frame = t
            .message(id::HEARTBEAT, Body::Heartbeat)
            .to_frame()
            .unwrap();
        let at = frame.len() - 2;
        frame[at] ^= 0x01;
        t.write(&frame).await;
        t.write(b"\x7egarbage\x7e").await;
    }
    assert!(t.closed().await, "closed after repeated bad frames");
}

/// The emergency button (alarm bit 0) raises one critical `vehicle_emergency` alert for the
/// vehicle's enterprise, each report counted; the same alarm over HTTP does too; an unknown
/// alarm name is refused naming the field.
#[tokio::test]
async fn the_emergency_button_raises_a_critical_alert() {
    let app = gateway_app().await;
    add_terminal(&app, "T-808-1", NO_2013).await;
    let mut t = Terminal::connect(&app, NO_2013).await;
    t.sign_in().await;
    for (i, lon) in [113_650_000u32, 113_651_000].into_iter().enumerate() {
        let mut f = fix(lon, 34_760_000, ago(60 - 10 * i64::try_from(i).unwrap()));
        f.alarm =
            cylwatch_jt808::message::alarm::EMERGENCY | cylwatch_jt808::message::alarm::OVERSPEED;
        assert_eq!(
            t.ask(id::LOCATION, Body::Location(f)).await,
            ResultCode::Success
        );
    }
    let alerts = || async {
        app.get_json("/api/v1/alerts?kind=vehicle_emergency")
            .await
            .1["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    app.wait_until(|| async { alerts().await.first().is_some_and(|a| a["count"] == 2) })
        .await;
    let list = alerts().await;
    assert_eq!(list.len(), 1, "{list:?}");
    let alert = &list[0];
    assert_eq!(alert["severity"], "critical");
    assert_eq!(alert["subject"]["id"], PLATE, "{alert}");
    assert_eq!(alert["enterprise_code"], "ENT1");
    assert_eq!(
        alert["evidence"]["alarms"],
        json!(["emergency", "overspeed"])
    );

    // Over HTTP: the same field; an unknown alarm is a 4xx naming it, nothing stored.
    let before = app.event_count().await;
    let mut bad = crate::common::gps("豫A80802", 113.6, 34.7, "2026-12-06T09:30:00+08:00");
    bad["alarms"] = json!(["emergency", "alien"]);
    let (status, body) = app.post_events(&json!({"events": [bad]})).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["rejected"][0]["error"]["field"], "alarms", "{body}");
    assert_eq!(app.event_count().await, before);
    let mut good = crate::common::gps("豫A80802", 113.6, 34.7, &ago(5).to_rfc3339());
    good["alarms"] = json!(["emergency"]);
    assert_eq!(app.post_events(&json!({"events": [good]})).await.0, 202);
    app.wait_until(|| async {
        alerts()
            .await
            .iter()
            .any(|a| a["subject"]["id"] == "豫A80802")
    })
    .await;
}

/// A packet answered with success is kept: the connection cut after the first packets of a
/// blind-area batch, the terminal connects again, signs in and sends the rest, and every fix
/// of the batch is stored. A packet before authentication is refused.
#[tokio::test]
async fn packets_answered_survive_a_cut_connection() {
    let app = gateway_app().await;
    add_terminal(&app, "T-808-1", NO_2013).await;
    let mut t = Terminal::connect(&app, NO_2013).await;
    let t0 = ago(3600);
    let fixes: Vec<Location> = (0..30)
        .map(|i| {
            fix(
                113_620_000 + i * 1_000,
                34_700_000,
                t0 + Span::seconds(i64::from(i) * 10),
            )
        })
        .collect();
    let batch = Body::LocationBatch {
        blind_area: true,
        fixes,
    };
    // Before authentication: refused.
    let m = t.message(id::LOCATION_BATCH, batch.clone());
    let packets = m.encode(200).unwrap();
    assert!(packets.len() >= 4, "sent in packets: {}", packets.len());
    t.serial += u16::try_from(packets.len() - 1).unwrap();
    t.write(&packets[0]).await;
    assert_eq!(
        t.result_of(m.header.serial, id::LOCATION_BATCH).await,
        ResultCode::Failure
    );

    t.sign_in().await;
    let m = t.message(id::LOCATION_BATCH, batch);
    let packets = m.encode(200).unwrap();
    t.serial += u16::try_from(packets.len() - 1).unwrap();
    for (i, p) in packets.iter().take(2).enumerate() {
        t.write(p).await;
        let serial = m.header.serial + u16::try_from(i).unwrap();
        assert_eq!(
            t.result_of(serial, id::LOCATION_BATCH).await,
            ResultCode::Success
        );
    }
    t.reconnect(&app).await;
    t.sign_in().await;
    for (i, p) in packets.iter().enumerate().skip(2) {
        t.write(p).await;
        let serial = m.header.serial + u16::try_from(i).unwrap();
        assert_eq!(
            t.result_of(serial, id::LOCATION_BATCH).await,
            ResultCode::Success
        );
    }
    assert_eq!(gps_events(&app).await, 30, "every fix of the batch, once");
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM jt808_packets")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(
        kept, 0,
        "the packets are forgotten once the batch is stored"
    );
}
