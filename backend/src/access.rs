//! Who is asking, as plain types: a [`User`], a [`Device`], the [`Principal`] behind a request and
//! the [`Scope`] of what it may see. Every store query that reads or writes scoped data takes a
//! `Scope`, and a `Scope` only comes from an authenticated principal (or the pipeline's
//! `Scope::system()`), so a handler cannot forget it. How a request proves who it is lives in
//! `api::extract`.

use crate::error::ApiError;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use shared::auth::{DeviceKind, Role};
use shared::ids::{DeviceId, DistrictCode, EnterpriseCode, StationCode};
use shared::ErrorCode;
use shared::VehiclePlate;

/// What a principal may see: everything, one district's enterprises, or one enterprise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    enterprise: Option<EnterpriseCode>,
    district: Option<DistrictCode>,
}

impl Scope {
    /// The pipeline's view: everything (it acts for every enterprise).
    pub fn system() -> Self {
        Self {
            enterprise: None,
            district: None,
        }
    }

    /// What a device sees: its enterprise.
    pub fn of_device(device: &Device) -> Self {
        Self {
            enterprise: Some(device.enterprise_code.clone()),
            district: None,
        }
    }

    /// Only this enterprise's records, or `None` for no such limit.
    pub fn enterprise(&self) -> Option<&EnterpriseCode> {
        self.enterprise.as_ref()
    }

    /// Only records of enterprises in this district, or `None`.
    pub fn district(&self) -> Option<&DistrictCode> {
        self.district.as_ref()
    }

    /// This scope narrowed to one enterprise and/or district, or `None` when that lies outside
    /// (a code that is no valid code names nothing inside).
    pub fn narrow(&self, enterprise: Option<&str>, district: Option<&str>) -> Option<Self> {
        fn pick<T: Clone + AsRef<str> + TryFrom<String>>(
            own: &Option<T>,
            asked: Option<&str>,
        ) -> Option<Option<T>> {
            match (own, asked) {
                (Some(own), Some(asked)) if own.as_ref() != asked => None,
                (Some(own), _) => Some(Some(own.clone())),
                (None, Some(asked)) => T::try_from(asked.to_owned()).ok().map(Some),
                (None, None) => Some(None),
            }
        }
        Some(Self {
            enterprise: pick(&self.enterprise, enterprise)?,
            district: pick(&self.district, district)?,
        })
    }

    /// Whether a record of `enterprise` (in `district`) is inside.
    pub fn admits(&self, enterprise: Option<&str>, district: Option<&str>) -> bool {
        let enterprise_ok =
            self.enterprise.is_none() || self.enterprise().map(|e| e.as_str()) == enterprise;
        let district_ok =
            self.district.is_none() || self.district().map(|d| d.as_str()) == district;
        enterprise_ok && district_ok
    }
}

/// A signed-in user.
#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub enterprise_code: Option<EnterpriseCode>,
    pub district_code: Option<DistrictCode>,
    pub expires_at: DateTime<Utc>,
    pub token_hash: String,
}

impl User {
    /// What this user may see.
    pub fn scope(&self) -> Scope {
        match self.role {
            Role::Admin | Role::CityRegulator | Role::DutyOfficer => Scope::system(),
            Role::DistrictRegulator => Scope {
                enterprise: None,
                district: self.district_code.clone(),
            },
            Role::EnterpriseAdmin | Role::EnterpriseStaff => Scope {
                enterprise: self.enterprise_code.clone(),
                district: None,
            },
            // A wall sees what it was made for: an enterprise, a district, or the city.
            Role::Display => Scope {
                enterprise: self.enterprise_code.clone(),
                district: self.district_code.clone(),
            },
        }
    }

    /// Refuses the request unless the user has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::client(
                ErrorCode::Forbidden,
                format!("the role {} may not do this", self.role.name()),
            ))
        }
    }

    /// May this user write registry records of `enterprise`? Outside their scope the
    /// enterprise answers as if it did not exist.
    pub fn may_manage(&self, enterprise: &str) -> Result<(), ApiError> {
        self.require(&[Role::Admin, Role::CityRegulator, Role::EnterpriseAdmin])?;
        match (&self.role, &self.enterprise_code) {
            (Role::EnterpriseAdmin, Some(own)) if own.as_str() != enterprise => {
                Err(ApiError::Client(
                    shared::ErrorDetail::new(
                        ErrorCode::UnknownReference,
                        "enterprise_code names a record that does not exist",
                    )
                    .with_field("enterprise_code"),
                ))
            }
            _ => Ok(()),
        }
    }
}

/// A device, by its key.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Device {
    pub device_id: DeviceId,
    pub kind: DeviceKind,
    pub enterprise_code: EnterpriseCode,
    pub vehicle_plate: Option<VehiclePlate>,
    pub station_code: Option<StationCode>,
}

impl Device {
    /// Only a filling-gun controller bound to a station asks for fillings and records them
    /// (a GPS tracker, a reader or a phone of the same enterprise may not open a gun).
    pub fn require_controller(&self) -> Result<(), ApiError> {
        if self.kind == DeviceKind::Controller && self.station_code.is_some() {
            Ok(())
        } else {
            Err(ApiError::client(
                ErrorCode::Forbidden,
                "only a filling controller bound to its station may ask for or record a filling",
            ))
        }
    }
}

/// Who made a request, kept in the request's extensions for the audit log.
#[derive(Debug, Clone)]
pub enum Principal {
    User(User),
    Device(Device),
}

/// Why a bearer token was refused.
pub const SIGN_IN_AGAIN: &str = "sign in again: the token is unknown, expired or idle too long";

/// SHA-256 of a token or key, hex: what is stored.
pub fn digest(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A new random secret (bearer token or device key): 244 bits, hex.
pub fn new_secret() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Argon2id hash of a password, PHC string.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::encode_b64(uuid::Uuid::new_v4().as_bytes())
        .map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
}

/// Whether `password` matches the stored hash (a malformed hash never matches).
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let hash = hash_password("Abcdefghij1").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("Abcdefghij1", &hash));
        assert!(!verify_password("Abcdefghij2", &hash));
        assert!(!verify_password("Abcdefghij1", "not a hash"));
    }

    #[test]
    fn scopes_admit() {
        let district = Scope {
            enterprise: None,
            district: Some("410105".parse().unwrap()),
        };
        assert!(district.admits(Some("A"), Some("410105")));
        assert!(!district.admits(Some("A"), Some("410102")));
        assert!(!district.admits(None, None));
        assert!(Scope::system().admits(None, None));
        assert_eq!(district.narrow(None, Some("410102")), None);
        let narrowed = district.narrow(Some("A"), None).unwrap();
        assert!(narrowed.admits(Some("A"), Some("410105")));
        assert!(!narrowed.admits(Some("B"), Some("410105")));
        assert_eq!(digest("x").len(), 64);
        assert_ne!(new_secret(), new_secret());
    }
}
