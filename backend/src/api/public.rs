//! `GET /api/v1/public/cylinders/{code}`: what the QR code on a cylinder shows anyone. No
//! personal data: no customers, no staff, no positions.

use super::cylinders::{find, view};
use crate::access::Scope;
use crate::api::state::AppState;
use crate::error::ApiError;
use crate::rules::compliance::to_beijing;
use crate::store;
use actix_web::{web, HttpResponse};
use shared::cylinder::{PublicCylinder, PublicHistoryItem};
use shared::events::Conclusion;
use shared::history::HistoryOp;
use shared::ErrorCode;

/// Places shown on the public page.
const RECENT_PLACES: i64 = 10;

/// The public view of a cylinder, by its code or by its QR payload (6-digit region code +
/// cylinder code, seed 002 §5.1.1).
#[utoipa::path(get, path = "/api/v1/public/cylinders/{code}", tag = "public", params(("code" = String, Path, description = "The cylinder (its QR code)")), responses((status = 200, description = "What the public may know of a cylinder", body = shared::cylinder::PublicCylinder)))]
pub async fn cylinder(
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let asked = path.into_inner();
    // The public may look up any cylinder: what it sees holds no personal data.
    let scope = Scope::system();
    let record = match find(&state, Some(&asked), None, &scope).await {
        Err(ApiError::Client(e)) if e.code == ErrorCode::NotFound => match strip_region(&asked) {
            Some(code) => find(&state, Some(code), None, &scope).await?,
            None => return Err(ApiError::Client(e)),
        },
        other => other?,
    };
    let id = record.id;
    let cylinder = view(&state, record, None)?;
    let recent = store::custody::recent(&state.pool, id, RECENT_PLACES).await?;
    let history = recent
        .into_iter()
        .map(|row| PublicHistoryItem {
            op: match row.op {
                HistoryOp::Inspection(Conclusion::Pass) => "inspect".to_owned(),
                HistoryOp::Inspection(Conclusion::Scrap) => "scrap".to_owned(),
                op => op.op().to_owned(),
            },
            at: to_beijing(row.occurred_at),
            place: row.station_name.or(row.to_station_name),
        })
        .collect();
    Ok(HttpResponse::Ok().json(PublicCylinder {
        code: cylinder.archive.code,
        medium: cylinder.archive.medium,
        owner: cylinder.owner_name,
        compliance: cylinder.compliance,
        light: cylinder.compliance.light(),
        label_zh: cylinder.compliance.label_zh().to_owned(),
        next_inspection_on: cylinder.archive.next_inspection_on,
        life_ends_on: cylinder.life_ends_on,
        last_filled_at: cylinder.last_filled_at,
        history,
    }))
}

/// `410100431325` → `431325`: a QR payload's cylinder code.
fn strip_region(payload: &str) -> Option<&str> {
    let (region, code) = payload.split_at_checked(6)?;
    (region.bytes().all(|b| b.is_ascii_digit()) && !code.is_empty()).then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_payloads() {
        assert_eq!(strip_region("410100431325"), Some("431325"));
        assert_eq!(strip_region("410100"), None);
        assert_eq!(strip_region("41A100431325"), None);
        assert_eq!(strip_region("中文"), None);
    }
}
