//! No new records for a suspended or closed enterprise or station (issue 21 item 2): 409
//! `record_inactive`, naming the field.

use crate::api::state::AppState;
use crate::error::ApiError;
use crate::store;
use shared::auth::RecordStatus;
use shared::{ErrorCode, ErrorDetail};

/// Refuses a new record of a suspended or closed enterprise (409 `record_inactive`, naming
/// `enterprise_code`). An unknown enterprise passes: the insert names it.
pub async fn require_active_enterprise(state: &AppState, code: &str) -> Result<(), ApiError> {
    match store::status::enterprise_status(&state.pool, code).await? {
        Some(status) if status != RecordStatus::Active => Err(ApiError::Client(
            ErrorDetail::new(
                ErrorCode::RecordInactive,
                format!(
                    "enterprise {code} is {}: it gets no new records",
                    status.name()
                ),
            )
            .with_field("enterprise_code"),
        )),
        _ => Ok(()),
    }
}

/// Refuses a device bound to a suspended or closed station of `enterprise` (409
/// `record_inactive`, naming `station_code`). An unknown station passes: the insert names it.
pub async fn require_active_station(
    state: &AppState,
    code: &str,
    enterprise: &str,
) -> Result<(), ApiError> {
    match store::status::station_status(&state.pool, code, enterprise).await? {
        Some(status) if status != RecordStatus::Active => Err(ApiError::Client(
            ErrorDetail::new(
                ErrorCode::RecordInactive,
                format!(
                    "station {code} is {}: nothing new is bound to it",
                    status.name()
                ),
            )
            .with_field("station_code"),
        )),
        _ => Ok(()),
    }
}
