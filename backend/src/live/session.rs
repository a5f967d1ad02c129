//! One WebSocket session: a snapshot first, then the hub's frames on the subscribed topics;
//! a fresh snapshot whenever the session fell behind. Pings every 15 s; a client silent for
//! 45 s is dropped.

use super::{HubEvent, LiveHub};
use crate::access::{Scope, User, SIGN_IN_AGAIN};
use crate::store;
use crate::telemetry::metrics;
use actix_ws::{Message, MessageStream, Session};
use chrono::Utc;
use shared::live::{LiveMessage, Subscribe, Topic, SNAPSHOT_ALERTS};
use shared::{ErrorBody, ErrorCode, ErrorDetail};
use sqlx::PgPool;
use std::collections::HashSet;
use std::time::{Duration, Instant};
use tokio::sync::broadcast::error::RecvError;

const PING_EVERY: Duration = Duration::from_secs(15);
const SILENT_LIMIT: Duration = Duration::from_secs(45);

/// The answer to a message that is not a subscription (never the parser's message).
const BAD_SUBSCRIBE: &str = "expected {\"subscribe\": [\"vehicles\"|\"alerts\"|\"stats\"|\"cylinders\"|\"incident\", ...], \"district_code\"?, \"enterprise_code\"?}";

/// How long a client that did not send its token in the URL has to send it first.
const TOKEN_WAIT: Duration = Duration::from_secs(5);

/// How the sessions of this instance are bounded.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A session with no request for this long ends.
    pub idle: chrono::Duration,
    /// Sessions one user may have open at once.
    pub per_user: u32,
    /// How often an open session checks that its login is still valid (and keeps it alive):
    /// a logout, a revoked session or a suspended account ends the feed within this time.
    pub check: Duration,
}

/// At most one snapshot per session in this time: further `subscribe`s (and resyncs) within
/// it are answered by one snapshot when it has passed (a client cannot make the server read
/// every vehicle and alert in a loop).
const SNAPSHOT_EVERY: Duration = Duration::from_secs(5);

/// Serves one session until either side closes it. `user` is who the upgrade's ticket named;
/// without one, the first message must be `{"token": "..."}`. The session takes a receiver
/// of the hub only once signed in.
pub async fn run(
    mut session: Session,
    mut incoming: MessageStream,
    live: LiveHub,
    pool: PgPool,
    limits: Limits,
    user: Option<User>,
) {
    let idle = limits.idle;
    let user = match user {
        Some(user) => user,
        None => match first_message_token(&mut incoming, &pool, idle).await {
            Ok(user) => user,
            Err((code, message)) => {
                let _ = send_error(&mut session, code, &message).await;
                let _ = session.close(None).await;
                return;
            }
        },
    };
    let Some(_slot) = live.open_session(user.id, limits.per_user) else {
        let message = format!(
            "at most {} live feeds per user are open at once; close one first",
            limits.per_user
        );
        let _ = send_error(&mut session, ErrorCode::RateLimited, &message).await;
        let _ = session.close(None).await;
        return;
    };
    let mut hub = live.subscribe();
    let _open = OpenSession::count();
    let mut scope = user.scope();
    let mut check = tokio::time::interval(limits.check);
    check.tick().await;
    let mut topics: HashSet<Topic> = [
        Topic::Vehicles,
        Topic::Alerts,
        Topic::Stats,
        Topic::Cylinders,
        Topic::Incident,
    ]
    .into();
    let mut last_heard = Instant::now();
    let mut ping = tokio::time::interval(PING_EVERY);
    if send_snapshot(&mut session, &pool, &scope).await.is_err() {
        return;
    }
    let mut snapshots = Snapshots::new();
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(snapshots.due_or_never()), if snapshots.is_due_later() => {
                snapshots.sent();
                if send_snapshot(&mut session, &pool, &scope).await.is_err() { break; }
            }
            event = hub.recv() => {
                let sent = match event {
                    // Incidents concern several enterprises and are redacted per viewer: each
                    // session decides (and reads again) for itself.
                    Ok(HubEvent::Frame { topic: Topic::Incident, text, .. }) => {
                        if !topics.contains(&Topic::Incident) { true } else {
                            match incident_frame(&text, &user, &scope, &pool).await {
                                Some(text) => session.text(text).await.is_ok(),
                                None => true,
                            }
                        }
                    }
                    Ok(HubEvent::Frame { topic, text, owner })
                        if topics.contains(&topic)
                            && scope.admits(owner.enterprise_code.as_deref(), owner.district_code.as_deref()) =>
                    {
                        session.text(text).await.is_ok()
                    }
                    Ok(HubEvent::Frame { .. }) => true,
                    Ok(HubEvent::Resync) | Err(RecvError::Lagged(_)) => {
                        !snapshots.asked() || send_snapshot(&mut session, &pool, &scope).await.is_ok()
                    }
                    Err(RecvError::Closed) => false,
                };
                if !sent { break; }
            }
            _ = check.tick() => {
                // A logout, a revoked session, a suspended account or an expired login ends
                // the live feed too.
                let token_hash = user.token_hash.clone();
                match store::auth::live_session(&pool, &token_hash, idle).await {
                    Ok(Some(_)) => {}
                    Ok(None) => {
                        let _ = send_error(&mut session, ErrorCode::Unauthorized, "the session ended; sign in again").await;
                        break;
                    }
                    Err(e) => tracing::warn!(error = %format!("{e:#}"), "session check failed; keeping the feed"),
                }
            }
            msg = incoming.recv() => {
                last_heard = Instant::now();
                match msg {
                    Some(Ok(Message::Text(text))) => {
                        match serde_json::from_str::<Subscribe>(&text) {
                            Ok(sub) => {
                                let Some(narrowed) = narrow(&user, &sub, &pool).await else {
                                    if send_error(&mut session, ErrorCode::Forbidden, "that subscription is outside your scope").await.is_err() { break; }
                                    continue;
                                };
                                scope = narrowed;
                                topics = sub.subscribe.into_iter().collect();
                                if snapshots.asked() && send_snapshot(&mut session, &pool, &scope).await.is_err() { break; }
                            }
                            // The parser's own words stay here: the client gets the code and
                            // what a subscription looks like.
                            Err(_) => {
                                if send_error(&mut session, ErrorCode::MalformedBody, BAD_SUBSCRIBE).await.is_err() { break; }
                            }
                        }
                    }
                    Some(Ok(Message::Ping(bytes))) => {
                        if session.pong(&bytes).await.is_err() { break; }
                    }
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => {}
                }
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > SILENT_LIMIT || session.ping(b"").await.is_err() {
                    break;
                }
            }
        }
    }
    let _ = session.close(None).await;
}

/// The user's scope narrowed to a subscription's enterprise and district, or `None` when the
/// subscription reaches outside it (an enterprise of another district included).
async fn narrow(user: &User, sub: &Subscribe, pool: &PgPool) -> Option<Scope> {
    let scope = user.scope();
    if let (Some(own), Some(enterprise)) = (scope.district(), sub.enterprise_code.as_deref()) {
        let district = store::auth::enterprise_district(pool, enterprise)
            .await
            .ok()
            .flatten();
        if district.as_deref() != Some(own) {
            return None;
        }
    }
    scope.narrow(sub.enterprise_code.as_deref(), sub.district_code.as_deref())
}

/// What an incident frame becomes for this session: as published for a system-scope user
/// who sees personal fields; otherwise the incident read again as this user's GET would answer
/// it; nothing when it is outside the (possibly narrowed) scope.
async fn incident_frame(text: &str, user: &User, scope: &Scope, pool: &PgPool) -> Option<String> {
    let Ok(LiveMessage::Incident(incident)) = serde_json::from_str::<LiveMessage>(text) else {
        return None;
    };
    let viewer = crate::incidents::Viewer {
        scope: scope.clone(),
        privileged: crate::incidents::privileged(user),
    };
    if viewer.privileged && scope.enterprise().is_none() && scope.district().is_none() {
        return Some(text.to_owned());
    }
    // An enterprise sees only incidents about it: no need to ask the database otherwise.
    if let Some(own) = scope.enterprise() {
        if !incident.enterprise_codes.iter().any(|e| e == own) {
            return None;
        }
    }
    match crate::incidents::view(pool, &viewer, incident.id).await {
        Ok(Some(mine)) => serde_json::to_string(&LiveMessage::Incident(Box::new(mine))).ok(),
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "incident not read for a live session");
            None
        }
    }
}

async fn send_error(session: &mut Session, code: ErrorCode, message: &str) -> Result<(), ()> {
    let body = ErrorBody {
        error: ErrorDetail::new(code, message),
    };
    let text = serde_json::to_string(&body).map_err(|_| ())?;
    session.text(text).await.map_err(|_| ())
}

/// When a session's next snapshot may go: at once if the last is `SNAPSHOT_EVERY` old, else
/// once it is (one for any number of asks in between).
struct Snapshots {
    last: Instant,
    due: Option<Instant>,
}

impl Snapshots {
    /// The first snapshot was just sent.
    fn new() -> Self {
        Self {
            last: Instant::now(),
            due: None,
        }
    }

    /// A snapshot is asked for: `true` when it may go now (and counts as sent), else it is
    /// due later.
    fn asked(&mut self) -> bool {
        if self.due.is_none() && self.last.elapsed() >= SNAPSHOT_EVERY {
            self.sent();
            return true;
        }
        self.due = Some(self.last + SNAPSHOT_EVERY);
        false
    }

    fn sent(&mut self) {
        self.last = Instant::now();
        self.due = None;
    }

    fn is_due_later(&self) -> bool {
        self.due.is_some()
    }

    /// When the pending snapshot is due (far away when none is).
    fn due_or_never(&self) -> tokio::time::Instant {
        let at = self
            .due
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        tokio::time::Instant::from_std(at)
    }
}

/// Counts an open session in the metrics while it lives.
struct OpenSession;

impl OpenSession {
    fn count() -> Self {
        metrics().ws_session(1);
        Self
    }
}

impl Drop for OpenSession {
    fn drop(&mut self) {
        metrics().ws_session(-1);
    }
}

async fn first_message_token(
    incoming: &mut MessageStream,
    pool: &PgPool,
    idle: chrono::Duration,
) -> Result<User, (ErrorCode, String)> {
    #[derive(serde::Deserialize)]
    struct TokenMessage {
        token: String,
    }
    let unauthorized = |message: &str| (ErrorCode::Unauthorized, message.to_owned());
    let first = tokio::time::timeout(TOKEN_WAIT, incoming.recv())
        .await
        .map_err(|_| {
            unauthorized("send a ticket (?ticket=, POST /api/v1/live/ticket) or a first message {\"token\": \"...\"}")
        })?;
    let Some(Ok(Message::Text(text))) = first else {
        return Err(unauthorized(
            "the first message must be {\"token\": \"...\"}",
        ));
    };
    let message: TokenMessage = serde_json::from_str(&text)
        .map_err(|_| unauthorized("the first message must be {\"token\": \"...\"}"))?;
    match store::auth::user_for_token(pool, &message.token, idle).await {
        Ok(Some(user)) => Ok(user),
        Ok(None) => Err(unauthorized(SIGN_IN_AGAIN)),
        // The cause stays in the server's log; the client learns only that it may retry.
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "checking a live feed's token");
            Err((
                ErrorCode::ServiceUnavailable,
                "the token could not be checked; try again".to_owned(),
            ))
        }
    }
}

async fn send_snapshot(session: &mut Session, pool: &PgPool, scope: &Scope) -> Result<(), ()> {
    let vehicles = match store::vehicles::all(pool, scope).await {
        Ok(v) => v,
        Err(e) => {
            // An empty snapshot would blank the wall; keep what the client has and go on.
            tracing::warn!(error = %format!("{e:#}"), "snapshot failed; none sent");
            return Ok(());
        }
    };
    let unresolved = store::alerts::Filter {
        unresolved: true,
        ..Default::default()
    };
    let limit = i64::try_from(SNAPSHOT_ALERTS).unwrap_or(i64::MAX);
    let alerts = match store::alerts::list(pool, scope, &unresolved, None, limit).await {
        Ok(rows) => rows.into_iter().map(crate::alerts::view).collect(),
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "snapshot failed; none sent");
            return Ok(());
        }
    };
    let text = serde_json::to_string(&LiveMessage::Snapshot {
        vehicles,
        alerts,
        at: Utc::now(),
    })
    .map_err(|_| ())?;
    session.text(text).await.map_err(|_| ())
}
