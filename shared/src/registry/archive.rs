//! Cylinder archives (一瓶一档, seed 004 Appendix A): the archive, its CSV columns and checks,
//! and the answers of a batch or import of archives.

use super::{invalid, Text};
use crate::error::{ErrorCode, ErrorDetail};
use crate::ids::{CylinderCode, EnterpriseCode, StationCode, TagId};
use crate::medium::Medium;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A cylinder's archive (一瓶一档, seed 004 Appendix A), plus its tag, owner and the station
/// where it is registered. The CSV import/export columns are these fields, in this order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CylinderArchive {
    pub code: CylinderCode,
    pub tag_id: TagId,
    pub medium: Medium,
    pub tare_kg: f64,
    pub volume_l: f64,
    pub working_pressure_mpa: f64,
    pub test_pressure_mpa: f64,
    pub wall_thickness_mm: f64,
    pub max_fill_kg: f64,
    pub design_life_years: u16,
    pub manufacturer: Text,
    pub manufactured_on: NaiveDate,
    pub product_standard: Text,
    pub manufacture_licence_no: Text,
    pub last_inspected_on: NaiveDate,
    pub next_inspection_on: NaiveDate,
    pub registration_no: Option<Text>,
    pub registered_on: Option<NaiveDate>,
    pub registration_authority: Option<Text>,
    pub owner_enterprise_code: EnterpriseCode,
    pub station_code: StationCode,
    /// 出厂编号: the maker's serial number (at most [`MAX_ARCHIVE_NUMBER_CHARS`] characters).
    #[serde(default)]
    pub serial_no: Option<Text>,
    /// 生产批号: the production batch (at most [`MAX_ARCHIVE_NUMBER_CHARS`] characters).
    #[serde(default)]
    pub production_batch: Option<Text>,
}

/// Longest `serial_no` or `production_batch`, in characters.
pub const MAX_ARCHIVE_NUMBER_CHARS: usize = 64;

/// The trailing CSV columns an import may leave out (files written before they existed).
pub const CYLINDER_OPTIONAL_COLUMNS: [&str; 2] = ["serial_no", "production_batch"];

/// The archive's fields in CSV column order.
pub const CYLINDER_COLUMNS: [&str; 23] = [
    "code",
    "tag_id",
    "medium",
    "tare_kg",
    "volume_l",
    "working_pressure_mpa",
    "test_pressure_mpa",
    "wall_thickness_mm",
    "max_fill_kg",
    "design_life_years",
    "manufacturer",
    "manufactured_on",
    "product_standard",
    "manufacture_licence_no",
    "last_inspected_on",
    "next_inspection_on",
    "registration_no",
    "registered_on",
    "registration_authority",
    "owner_enterprise_code",
    "station_code",
    "serial_no",
    "production_batch",
];

/// Columns holding numbers (the rest are text or dates, carried as JSON strings).
pub const CYLINDER_NUMBER_COLUMNS: [&str; 7] = [
    "tare_kg",
    "volume_l",
    "working_pressure_mpa",
    "test_pressure_mpa",
    "wall_thickness_mm",
    "max_fill_kg",
    "design_life_years",
];

impl CylinderArchive {
    /// Physical and calendar plausibility, field by field.
    pub fn check(&self) -> Result<(), ErrorDetail> {
        let positive = [
            ("tare_kg", self.tare_kg, 2000.0),
            ("volume_l", self.volume_l, 10_000.0),
            ("working_pressure_mpa", self.working_pressure_mpa, 200.0),
            ("test_pressure_mpa", self.test_pressure_mpa, 300.0),
            ("wall_thickness_mm", self.wall_thickness_mm, 100.0),
            ("max_fill_kg", self.max_fill_kg, 5000.0),
        ];
        for (field, value, max) in positive {
            if !(value.is_finite() && value > 0.0 && value <= max) {
                return Err(invalid(
                    field,
                    format!("{field} must be a number above 0 and at most {max}"),
                ));
            }
        }
        if self.test_pressure_mpa < self.working_pressure_mpa {
            return Err(invalid(
                "test_pressure_mpa",
                "test_pressure_mpa must not be below working_pressure_mpa",
            ));
        }
        if !(1..=80).contains(&self.design_life_years) {
            return Err(invalid(
                "design_life_years",
                "design_life_years must be between 1 and 80",
            ));
        }
        if self.last_inspected_on < self.manufactured_on {
            return Err(invalid(
                "last_inspected_on",
                "last_inspected_on must not be before manufactured_on",
            ));
        }
        if self.next_inspection_on <= self.last_inspected_on {
            return Err(invalid(
                "next_inspection_on",
                "next_inspection_on must be after last_inspected_on",
            ));
        }
        let registration = [
            self.registration_no.is_some(),
            self.registered_on.is_some(),
            self.registration_authority.is_some(),
        ];
        if registration.contains(&true) && registration.contains(&false) {
            return Err(invalid(
                "registration_no",
                "registration_no, registered_on and registration_authority are all given or all null",
            ));
        }
        for (field, value) in [
            ("serial_no", &self.serial_no),
            ("production_batch", &self.production_batch),
        ] {
            if value
                .as_ref()
                .is_some_and(|v| v.as_str().chars().count() > MAX_ARCHIVE_NUMBER_CHARS)
            {
                return Err(invalid(
                    field,
                    format!("{field} must be at most {MAX_ARCHIVE_NUMBER_CHARS} characters"),
                ));
            }
        }
        if let Some(on) = self.registered_on {
            if on < self.manufactured_on {
                return Err(invalid(
                    "registered_on",
                    "registered_on must not be before manufactured_on",
                ));
            }
        }
        Ok(())
    }

    /// The date its design life ends (manufacture date + design life).
    pub fn life_ends_on(&self) -> NaiveDate {
        self.manufactured_on
            .checked_add_months(chrono::Months::new(u32::from(self.design_life_years) * 12))
            .unwrap_or(NaiveDate::MAX)
    }
}

/// `POST /api/v1/cylinders` with many archives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CylinderBatch {
    pub items: Vec<CylinderArchive>,
}

/// The answer to a batch of archives or an import.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportReport {
    pub created: usize,
    pub skipped: usize,
    pub errors: Vec<RowError>,
}

/// One bad row of an import (`row` is its line in the file, the header being line 1, as a
/// spreadsheet numbers it) or item of a batch (`row` is its 0-based index in `items`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RowError {
    pub row: usize,
    pub column: Option<String>,
    pub code: ErrorCode,
    pub reason: String,
}
