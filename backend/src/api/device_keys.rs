//! Device keys and the MQTT broker (issue 23): `POST /api/v1/devices/{device_id}/key` gives a
//! device a new key, shown once (the old one stops working for HTTP and MQTT); and
//! [`to_broker`], through which every handler that makes or changes a device's key or status
//! tells the broker (queued in PostgreSQL first, applied at once when the broker answers).

use crate::access::{self, User};
use crate::api::state::AppState;
use crate::error::ApiError;
use crate::store;
use crate::store::mqtt::Action;
use crate::store::status::Collection;
use actix_web::{web, HttpResponse};
use shared::auth::{DeviceKey, RecordStatus, Role};
use shared::ids::DeviceId;
use shared::ErrorCode;
use std::time::Duration;

/// How long a handler waits for the broker to apply its command (it stays queued after).
const BROKER_WAIT: Duration = Duration::from_secs(3);

/// Tells the broker about a device, when MQTT is on: the command is queued (so a broker that
/// is down gets it later), then applied now if the broker answers within a few seconds.
pub async fn to_broker(
    state: &AppState,
    device_id: &str,
    action: Action,
    key: Option<&str>,
) -> Result<(), ApiError> {
    let Some(broker) = &state.broker else {
        return Ok(());
    };
    store::mqtt::enqueue(&state.pool, device_id, action, key).await?;
    broker.apply_now(BROKER_WAIT).await;
    Ok(())
}

/// `POST /api/v1/devices/{device_id}/key` (admin or the device's enterprise admin).
#[utoipa::path(post, path = "/api/v1/devices/{device_id}/key", tag = "auth", security(("bearer" = [])), params(("device_id" = String, Path, description = "The device")), responses((status = 201, description = "The new key, shown once; the old one stops working (HTTP and MQTT)", body = shared::auth::DeviceKey)))]
pub async fn rotate_device_key(
    path: web::Path<String>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    user.require(&[Role::Admin, Role::EnterpriseAdmin])?;
    let device_id = path.into_inner();
    let no_device = || ApiError::client(ErrorCode::NotFound, format!("no live device {device_id}"));
    let id = DeviceId::try_from(device_id.clone()).map_err(|_| no_device())?;
    let found = store::status::find(
        &state.pool,
        Collection::Devices,
        &device_id,
        None,
        &user.scope(),
    )
    .await?
    .pop()
    .filter(|d| d.status != RecordStatus::Closed)
    .ok_or_else(no_device)?;
    user.may_manage(found.enterprise_code.as_str())
        .map_err(|_| no_device())?;
    let key = access::new_secret();
    let hash = access::digest(&key);
    let status = store::mqtt::rotate_key(&state.pool, &device_id, &hash)
        .await?
        .ok_or_else(no_device)?;
    // The old key stops at once here (other instances within `registry_cache_s`).
    state.devices.clear();
    state.key_set.insert(hash);
    to_broker(&state, &device_id, Action::Put, Some(&key)).await?;
    if status != RecordStatus::Active {
        to_broker(&state, &device_id, Action::for_status(status), None).await?;
    }
    Ok(HttpResponse::Created().json(DeviceKey { device_id: id, key }))
}
