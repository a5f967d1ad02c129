//! Who registers a staff member with a certificate (issue 21 item 3): a regulator only, since
//! the gun's R14 rests on it; an enterprise registers the person, then proposes the
//! certificate. Used by `POST /api/v1/staff` and the staff CSV import.

use crate::access::User;
use crate::error::ApiError;
use shared::auth::Role;
use shared::registry::NewStaff;
use shared::{ErrorCode, ErrorDetail};

/// A staff member registered with a certificate by someone who is not a regulator: 403 naming
/// the field (the gun's R14 rests on certificates; an enterprise proposes one instead).
pub(super) fn certificates_by_regulator(user: &User, staff: &NewStaff) -> Result<(), ApiError> {
    match staff.certificate_field() {
        Some(field)
            if !matches!(
                user.role,
                Role::Admin | Role::CityRegulator | Role::DistrictRegulator
            ) =>
        {
            Err(ApiError::Client(
                ErrorDetail::new(
                    ErrorCode::Forbidden,
                    format!(
                    "{field} is written by a regulator only: register the staff member without \
                     it, then propose it (POST /api/v1/staff/{{staff_no}}/proposals)"
                ),
                )
                .with_field(field),
            ))
        }
        _ => Ok(()),
    }
}
