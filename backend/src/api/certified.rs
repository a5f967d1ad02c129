//! Who registers a record with what a regulator vouches for (issue 21 item 3): a staff member's
//! certificates (the gun's R14 rests on them), a consignee's licence for controlled media
//! (`controlled_medium_unlicensed` rests on it), a vehicle's road transport permit — a
//! regulator only, at registration as in `PATCH`; an enterprise registers the record without
//! them, then proposes them. Used by `POST /api/v1/staff|customers|vehicles` and their CSV
//! imports.

use crate::access::User;
use crate::error::ApiError;
use shared::auth::Role;
use shared::registry::{NewCustomer, NewStaff, NewVehicle};
use shared::{ErrorCode, ErrorDetail};

/// A staff member registered with a certificate by someone who is not a regulator: 403 naming
/// the field (the gun's R14 rests on certificates; an enterprise proposes one instead).
pub(super) fn certificates_by_regulator(user: &User, staff: &NewStaff) -> Result<(), ApiError> {
    by_regulator(
        user,
        staff.certificate_field(),
        "the staff member",
        "propose it (POST /api/v1/staff/{staff_no}/proposals)",
    )
}

/// A customer registered with a licence for controlled media by someone who is not a
/// regulator: 403 naming the field.
pub(super) fn licence_by_regulator(user: &User, customer: &NewCustomer) -> Result<(), ApiError> {
    let field = if customer.licence_no.is_some() {
        Some("licence_no")
    } else {
        customer.licence_expires.map(|_| "licence_expires")
    };
    by_regulator(user, field, "the customer", "a regulator records it")
}

/// A vehicle registered with a road transport permit by someone who is not a regulator: 403
/// naming the field.
pub(super) fn permit_by_regulator(user: &User, vehicle: &NewVehicle) -> Result<(), ApiError> {
    let field = if vehicle.transport_permit_no.is_some() {
        Some("transport_permit_no")
    } else {
        vehicle
            .transport_permit_expires
            .map(|_| "transport_permit_expires")
    };
    by_regulator(user, field, "the vehicle", "a regulator records it")
}

fn by_regulator(
    user: &User,
    field: Option<&'static str>,
    record: &str,
    then: &str,
) -> Result<(), ApiError> {
    match field {
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
                        "{field} is written by a regulator only: register {record} without it, \
                         then {then}"
                    ),
                )
                .with_field(field),
            ))
        }
        _ => Ok(()),
    }
}
