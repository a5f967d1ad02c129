//! The gun's facts: a cylinder's stored row as the rules read it, and the facts as kept with a
//! decision (and digested).

use crate::rules::filling::{CylinderFacts, Facts};
use crate::store::filling::CylinderRow;
use chrono::Months;

/// The rules' facts of a cylinder from its stored row.
pub(super) fn cylinder_facts(row: &CylinderRow) -> anyhow::Result<CylinderFacts> {
    let life_years = u32::try_from(row.design_life_years)?;
    Ok(CylinderFacts {
        medium: row.medium,
        registered: row.registration_no.is_some(),
        next_inspection_on: row.next_inspection_on,
        life_ends_on: row
            .manufactured_on
            .checked_add_months(Months::new(life_years * 12))
            .unwrap_or(chrono::NaiveDate::MAX),
        scrapped: row.scrapped,
        registered_station: row.station_code.clone(),
        last_filled_at: row.last_filled_at,
        circulated_since_last_filling: row.circulated,
        last_passed_pre_check_at: row.last_pre_check_at,
        previous_filling_post_checked: row.post_checked,
        pending_events: row.pending_events,
        recalled: row.recalled,
    })
}

/// The facts as kept with the decision (and digested).
pub(super) fn facts_json(f: &Facts) -> serde_json::Value {
    let cylinder = f.cylinder.as_ref().map(|c| {
        serde_json::json!({
            "medium": c.medium, "registered": c.registered,
            "next_inspection_on": c.next_inspection_on, "life_ends_on": c.life_ends_on,
            "scrapped": c.scrapped, "registered_station": c.registered_station,
            "last_filled_at": c.last_filled_at,
            "circulated_since_last_filling": c.circulated_since_last_filling,
            "last_passed_pre_check_at": c.last_passed_pre_check_at,
            "previous_filling_post_checked": c.previous_filling_post_checked,
            "pending_events": c.pending_events, "recalled": c.recalled,
        })
    });
    serde_json::json!({
        "now": f.now, "today": f.today, "station_code": f.station_code,
        "gun_medium": f.gun_medium,
        "filling_licence_expires": f.enterprise.filling_licence_expires,
        "filling_licence_valid_from": f.enterprise.filling_licence_valid_from,
        "licensed_media": f.enterprise.licensed_media,
        "gas_licence_expires": f.enterprise.gas_licence_expires,
        "filler_status": f.enterprise.filler_status,
        "filler_certified": f.enterprise.filler_certified,
        "cylinder": cylinder,
    })
}
