//! Who may do what: roles, the login exchange, the signed-in user, devices.

use crate::ids::{DeviceId, DistrictCode, EnterpriseCode, StationCode, VehiclePlate};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A user's role (SPEC §9). `admin` is the first administrator and whoever it appoints: it
/// manages users and sees everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    CityRegulator,
    DistrictRegulator,
    DutyOfficer,
    EnterpriseAdmin,
    EnterpriseStaff,
    /// A command-hall wall: read-only, signed in with a display key (`/api/v1/displays`).
    Display,
}

impl Role {
    /// Every role.
    pub const ALL: [Self; 7] = [
        Self::Admin,
        Self::CityRegulator,
        Self::DistrictRegulator,
        Self::DutyOfficer,
        Self::EnterpriseAdmin,
        Self::EnterpriseStaff,
        Self::Display,
    ];

    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::CityRegulator => "city_regulator",
            Self::DistrictRegulator => "district_regulator",
            Self::DutyOfficer => "duty_officer",
            Self::EnterpriseAdmin => "enterprise_admin",
            Self::EnterpriseStaff => "enterprise_staff",
            Self::Display => "display",
        }
    }

    /// Parses a wire name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.name() == name)
    }

    /// The Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Admin => "系统管理员",
            Self::CityRegulator => "市级监管",
            Self::DistrictRegulator => "区级监管",
            Self::DutyOfficer => "值班员",
            Self::EnterpriseAdmin => "企业管理员",
            Self::EnterpriseStaff => "企业员工",
            Self::Display => "指挥大屏",
        }
    }
}

/// `POST /api/v1/auth/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// The answer to a good login: send `Authorization: Bearer <token>` afterwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginResponse {
    pub token: String,
    pub role: Role,
    pub enterprise_code: Option<EnterpriseCode>,
    pub district_code: Option<DistrictCode>,
    pub username: String,
    /// The session ends at this instant at the latest (sooner when idle).
    pub expires_at: DateTime<Utc>,
}

/// `GET /api/v1/auth/me`: the signed-in user and their scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    pub username: String,
    pub role: Role,
    pub enterprise_code: Option<EnterpriseCode>,
    pub district_code: Option<DistrictCode>,
    pub expires_at: DateTime<Utc>,
    /// Idle sessions end after this many minutes without a request.
    pub idle_minutes: u32,
}

/// `POST /api/v1/users` (admin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub username: String,
    pub password: String,
    pub role: Role,
    #[serde(default)]
    pub enterprise_code: Option<EnterpriseCode>,
    #[serde(default)]
    pub district_code: Option<DistrictCode>,
}

/// `POST /api/v1/displays`: a wall's credential, scoped like a user (the city when neither
/// code is given, else a district or an enterprise).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewDisplay {
    /// Its name, e.g. `hall-1` (the rules of a username; it cannot sign in with a password).
    pub name: String,
    #[serde(default)]
    pub enterprise_code: Option<EnterpriseCode>,
    #[serde(default)]
    pub district_code: Option<DistrictCode>,
}

/// The answer to `POST /api/v1/displays`: the key is shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DisplayKey {
    pub name: String,
    pub key: String,
}

/// `POST /api/v1/auth/display`: a wall signs in with its key (answered like a login).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DisplaySignIn {
    pub key: String,
}

/// One display in `GET /api/v1/displays`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DisplayView {
    pub name: String,
    pub enterprise_code: Option<EnterpriseCode>,
    pub district_code: Option<DistrictCode>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// What a device is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    Gps,
    Reader,
    Controller,
    Phone,
    /// A JT/T 808 vehicle terminal (车载终端): reports over the JT/T 808 gateway, known by its
    /// terminal number; its vehicle's GPS device.
    Jt808,
}

crate::place::names!(DeviceKind {
    Gps => "gps",
    Reader => "reader",
    Controller => "controller",
    Phone => "phone",
    Jt808 => "jt808",
});

/// `POST /api/v1/devices` (admin or enterprise admin). A device bound to a vehicle or a station
/// writes for that one only; an unbound device writes for its whole enterprise (the
/// enterprise's own platform uploading on its behalf).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewDevice {
    pub device_id: DeviceId,
    pub kind: DeviceKind,
    pub enterprise_code: EnterpriseCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vehicle_plate: Option<VehiclePlate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub station_code: Option<StationCode>,
    /// A `jt808` terminal's number as its message headers carry it: the BCD digits, 12 for the
    /// 2013 edition, 20 for 2019 (leading zeros kept). Required for `jt808`, refused otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminal_no: Option<String>,
}

impl NewDevice {
    /// Cross-field rules: a `jt808` terminal has a terminal number and is bound to a vehicle
    /// (it is that vehicle's GPS device); no other kind has a terminal number.
    pub fn check(&self) -> Result<(), crate::ErrorDetail> {
        let invalid = |field: &str, message: &str| {
            Err(crate::ErrorDetail::new(crate::ErrorCode::InvalidField, message).with_field(field))
        };
        match (&self.kind, &self.terminal_no) {
            (DeviceKind::Jt808, None) => {
                invalid("terminal_no", "a jt808 terminal needs its terminal_no")
            }
            (DeviceKind::Jt808, Some(no)) if !valid_terminal_no(no) => invalid(
                "terminal_no",
                "terminal_no is the header's BCD digits: 12 (JT/T 808-2013) or 20 (2019)",
            ),
            (DeviceKind::Jt808, Some(_)) if self.vehicle_plate.is_none() => invalid(
                "vehicle_plate",
                "a jt808 terminal is bound to its vehicle: vehicle_plate is required",
            ),
            (DeviceKind::Jt808, Some(_)) if self.station_code.is_some() => invalid(
                "station_code",
                "a jt808 terminal is bound to a vehicle, not a station",
            ),
            (DeviceKind::Jt808, Some(_)) | (_, None) => Ok(()),
            (_, Some(_)) => invalid("terminal_no", "only a jt808 terminal has a terminal_no"),
        }
    }
}

/// 12 or 20 decimal digits.
pub fn valid_terminal_no(no: &str) -> bool {
    matches!(no.len(), 12 | 20) && no.bytes().all(|b| b.is_ascii_digit())
}

/// The answer to a device registration: the key is shown this once and stored hashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceKey {
    pub device_id: DeviceId,
    pub key: String,
}

/// Where a managed record stands (issue 21's status model, used by users now): `active`;
/// `suspended` (it acts no more — a user cannot sign in and its sessions are ended — until it
/// is reinstated); `closed` (for ever). Changes go through `suspend` / `reinstate` / `close`,
/// each with a reason, and are audited; nothing is ever deleted. For devices, `POST
/// /api/v1/devices/{device_id}/revoke` is `close`: the key stops working for ever.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    Active,
    Suspended,
    Closed,
}

crate::place::names!(RecordStatus {
    Active => "active",
    Suspended => "suspended",
    Closed => "closed",
});

/// A status change: `suspend`, `reinstate` or `close` (why, 1 to 500 characters, no control
/// character; kept in the record and in the audit log).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    pub reason: String,
}

/// Longest reason of a status change, in characters.
pub const MAX_REASON_CHARS: usize = 500;

impl StatusChange {
    /// The reason, trimmed, when it is one: 1 to `MAX_REASON_CHARS` characters and no control
    /// character (a NUL cannot be stored; a line break or escape has no place in a one-line
    /// reason).
    pub fn valid_reason(&self) -> Option<&str> {
        let reason = self.reason.trim();
        let fits = !reason.is_empty() && reason.chars().count() <= MAX_REASON_CHARS;
        (fits && !reason.chars().any(char::is_control)).then_some(reason)
    }
}

/// A user's account after a status change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountStatus {
    pub username: String,
    pub role: Role,
    pub enterprise_code: Option<EnterpriseCode>,
    pub status: RecordStatus,
    /// Why the last change was made.
    pub status_reason: Option<String>,
    pub status_changed_at: Option<DateTime<Utc>>,
}

/// `POST /api/v1/auth/password`: the signed-in user's own password. The new one meets the
/// policy of user creation; every other session of the user ends.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub old_password: String,
    pub new_password: String,
}

impl std::fmt::Debug for PasswordChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordChange { .. }")
    }
}

/// One session of a user (`GET /api/v1/users/{username}/sessions`): never its token nor the
/// token's hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    /// The session's id (not a secret): revoke it with `POST …/sessions/{id}/revoke`.
    pub id: i64,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// It ends at this instant at the latest (sooner when idle).
    pub expires_at: DateTime<Utc>,
    /// The address it signed in from, when known.
    pub source_addr: Option<String>,
}

/// The answer to revoking all of a user's sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionsRevoked {
    /// How many live sessions were ended.
    pub revoked: u64,
}

/// Why a password was refused (等保 level 2: length and composition).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("a password has at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("a password has at most 128 characters")]
    TooLong,
    #[error("a password mixes at least three of: upper-case letters, lower-case letters, digits, other characters")]
    TooSimple,
}

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// Checks a new password against the policy.
pub fn check_password(password: &str) -> Result<(), PasswordError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort);
    }
    if chars > 128 {
        return Err(PasswordError::TooLong);
    }
    let classes = [
        password.chars().any(|c| c.is_uppercase()),
        password.chars().any(|c| c.is_lowercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ];
    if classes.iter().filter(|c| **c).count() < 3 {
        return Err(PasswordError::TooSimple);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_policy() {
        assert_eq!(check_password("Ab1!"), Err(PasswordError::TooShort));
        assert_eq!(check_password("abcdefghijk"), Err(PasswordError::TooSimple));
        assert_eq!(check_password("abcdefghij1"), Err(PasswordError::TooSimple));
        assert_eq!(check_password("Abcdefghij1"), Ok(()));
        assert_eq!(check_password("abcdefghij1!"), Ok(()));
        assert_eq!(check_password("气瓶安全Aa1监管平台"), Ok(()));
    }

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::from_name(role.name()), Some(role));
            let json = serde_json::to_value(role).unwrap_or_default();
            assert_eq!(json, serde_json::json!(role.name()));
        }
    }
}
