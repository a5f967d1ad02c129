//! Statistics (API.md "Statistics"; SPEC §2, §7).

use serde::{Deserialize, Serialize};

/// The columns of the inventory table (seed 000 §3.7, SPEC §2): shipped = in transit +
/// delivered; total = every archived cylinder not scrapped, lost included; a lost cylinder
/// counts in no other column but total.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InventoryCounts {
    pub shipped: i64,
    pub in_transit: i64,
    pub delivered: i64,
    pub returning: i64,
    pub total: i64,
    pub lost: i64,
}

impl std::ops::AddAssign for InventoryCounts {
    fn add_assign(&mut self, o: Self) {
        self.shipped += o.shipped;
        self.in_transit += o.in_transit;
        self.delivered += o.delivered;
        self.returning += o.returning;
        self.total += o.total;
        self.lost += o.lost;
    }
}

/// One medium's row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InventoryRow {
    pub medium: String,
    #[serde(flatten)]
    pub counts: InventoryCounts,
    /// Each figure's list: column name → `GET /api/v1/cylinders?...` (extension).
    #[serde(default, skip_serializing_if = "Links::is_empty")]
    #[cfg_attr(feature = "openapi", schema(inline))]
    pub links: Links,
}

/// Figure name → the path of the list behind it.
pub type Links = std::collections::BTreeMap<String, String>;

/// The custody states behind each inventory column.
pub const INVENTORY_COLUMNS: [(&str, &[&str]); 6] = [
    ("shipped", &["in_transit_delivery", "at_customer"]),
    ("in_transit", &["in_transit_delivery"]),
    ("delivered", &["at_customer"]),
    ("returning", &["in_transit_return"]),
    (
        "total",
        &[
            "in_stock_empty",
            "in_stock_full",
            "in_transit_delivery",
            "at_customer",
            "in_transit_return",
            "at_inspection",
            "lost",
        ],
    ),
    ("lost", &["lost"]),
];

/// `GET /api/v1/stats/inventory`: a row per medium and their sum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Inventory {
    pub rows: Vec<InventoryRow>,
    pub total: InventoryCounts,
    /// The total row's lists (extension).
    #[serde(default, skip_serializing_if = "Links::is_empty")]
    #[cfg_attr(feature = "openapi", schema(inline))]
    pub total_links: Links,
}

impl Inventory {
    /// The table of these rows, with the total row their sum (the seed's own 合计 row does
    /// not add up; ours must).
    pub fn of(rows: Vec<InventoryRow>) -> Self {
        let mut total = InventoryCounts::default();
        for r in &rows {
            total += r.counts;
        }
        Self {
            rows,
            total,
            total_links: Links::new(),
        }
    }
}

/// How `GET /api/v1/stats/compliance` groups.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    #[default]
    Enterprise,
    District,
}

/// Cylinders by their worst compliance status (`Compliance` wire names), one status each.
pub type ComplianceCounts = std::collections::BTreeMap<String, i64>;

/// One group of the compliance distribution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComplianceGroup {
    /// The enterprise's or district's code.
    pub key: String,
    #[cfg_attr(feature = "openapi", schema(inline))]
    pub counts: ComplianceCounts,
    /// Each status's list (extension).
    #[serde(default, skip_serializing_if = "Links::is_empty")]
    #[cfg_attr(feature = "openapi", schema(inline))]
    pub links: Links,
}

/// `GET /api/v1/stats/compliance`: per enterprise or district, and in total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComplianceDistribution {
    pub group_by: GroupBy,
    pub groups: Vec<ComplianceGroup>,
    #[cfg_attr(feature = "openapi", schema(inline))]
    pub total: ComplianceCounts,
}

/// A time bucket of `GET /api/v1/stats/fillings`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    Hour,
    #[default]
    Day,
}

/// One bucket (Beijing time) of filling activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FillingBucket {
    pub start: chrono::DateTime<chrono::FixedOffset>,
    pub fillings: i64,
    /// Records flagged (overfill, tare mismatch, late, filled despite refusal).
    pub flagged: i64,
    /// Records later than `late_filling_s`.
    pub late: i64,
    pub decisions: i64,
    pub refusals: i64,
    /// The list behind each count: `fillings`, `flagged`, `late` (records), `decisions`,
    /// `refusals` (decisions) (extension).
    #[serde(default, skip_serializing_if = "Links::is_empty")]
    #[cfg_attr(feature = "openapi", schema(inline))]
    pub links: Links,
}

/// Refusals of one rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RuleCount {
    pub rule: String,
    pub count: i64,
    /// The refusals behind the count (extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// `GET /api/v1/stats/fillings`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FillingStats {
    pub bucket: Bucket,
    pub buckets: Vec<FillingBucket>,
    pub refusals_by_rule: Vec<RuleCount>,
}

/// Alerts of one kind opened in a window, and how fast they were acknowledged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertKindStats {
    pub kind: String,
    pub opened: i64,
    pub acknowledged: i64,
    pub resolved: i64,
    /// Still open (not acknowledged) now.
    pub open: i64,
    /// Mean seconds from opening to acknowledgement, over those acknowledged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_ack_s: Option<f64>,
    /// The alert list behind each count: `opened`, `acknowledged`, `resolved`, `open`
    /// (extension).
    #[serde(default, skip_serializing_if = "Links::is_empty")]
    #[cfg_attr(feature = "openapi", schema(inline))]
    pub links: Links,
}

/// `GET /api/v1/stats/alerts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertStats {
    pub kinds: Vec<AlertKindStats>,
}

/// Recovery (回收率) of one enterprise: of the cylinders delivered in the window, how many
/// came back (collected empty or returned to a station after that delivery, by now).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Recovery {
    pub enterprise_code: String,
    pub delivered: i64,
    pub returned: i64,
    /// `returned / delivered`; absent when nothing was delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// The history rows behind `delivered` and `returned` (extension).
    #[serde(default, skip_serializing_if = "Links::is_empty")]
    #[cfg_attr(feature = "openapi", schema(inline))]
    pub links: Links,
}

/// `GET /api/v1/stats/recovery`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecoveryStats {
    pub groups: Vec<Recovery>,
    pub total: Recovery,
}

/// A site as flows name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SiteRef {
    /// `station` or `customer`.
    pub kind: String,
    pub code: String,
}

/// Cylinders that moved from one site to the next in the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Flow {
    pub from: SiteRef,
    pub to: SiteRef,
    pub count: i64,
    /// The moves behind the count (extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// `GET /api/v1/stats/flows`: the largest flows first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Flows {
    pub flows: Vec<Flow>,
}

/// One filling record in a list behind a figure (`GET /api/v1/fillings`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FillingItem {
    pub id: uuid::Uuid,
    pub station_code: crate::ids::StationCode,
    pub gun_no: String,
    pub cylinder_code: crate::ids::CylinderCode,
    pub staff_no: crate::ids::StaffNo,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub ended_at: chrono::DateTime<chrono::Utc>,
    pub received_at: chrono::DateTime<chrono::Utc>,
    /// Received − ended, seconds.
    pub late_s: f64,
    pub mass_before_kg: f64,
    pub mass_after_kg: f64,
    pub flags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_id: Option<uuid::Uuid>,
}

/// One authorize decision in a list behind a figure (`GET /api/v1/fillings/decisions`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DecisionItem {
    pub id: uuid::Uuid,
    pub decided_at: chrono::DateTime<chrono::Utc>,
    pub station_code: crate::ids::StationCode,
    pub gun_no: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cylinder_code: Option<crate::ids::CylinderCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag_id: Option<crate::ids::TagId>,
    pub medium: String,
    pub staff_no: crate::ids::StaffNo,
    pub allowed: bool,
    /// The failing rules, in order.
    pub rules: Vec<String>,
}

/// One history row in a list behind a figure (`GET /api/v1/history`): a cylinder's event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryItem {
    pub cylinder_code: crate::ids::CylinderCode,
    pub event_id: uuid::Uuid,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<String>,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub station_code: Option<crate::ids::StationCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_code: Option<crate::ids::CustomerCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_station_code: Option<crate::ids::StationCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vehicle_plate: Option<crate::ids::VehiclePlate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_no: Option<crate::ids::StaffNo>,
}

/// One cylinder in a list behind a figure (`GET /api/v1/cylinders`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CylinderItem {
    pub code: String,
    pub medium: String,
    /// Where it is in its custody cycle (`lost` when unseen too long).
    pub custody: crate::cylinder::Custody,
    /// The worst compliance status today (a `Compliance` wire name).
    pub compliance: String,
    pub owner_enterprise_code: crate::ids::EnterpriseCode,
    pub district_code: Option<crate::ids::DistrictCode>,
    pub place_kind: Option<crate::place::PlaceKind>,
    pub place_code: Option<String>,
    pub last_seen_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// One customer account in a list behind a figure (`GET /api/v1/customers`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerItem {
    pub code: String,
    pub enterprise_code: crate::ids::EnterpriseCode,
    pub name: String,
    /// `household`, `restaurant` or `industrial`.
    pub kind: String,
    pub phone: String,
    pub address: String,
    pub district_code: crate::ids::DistrictCode,
    pub opened_at: chrono::DateTime<chrono::Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_total_row_is_the_sum_and_the_wire_shape_is_flat() {
        let row = |m: &str, n: i64| InventoryRow {
            medium: m.into(),
            links: Links::new(),
            counts: InventoryCounts {
                shipped: n,
                in_transit: n,
                delivered: 0,
                returning: 1,
                total: 10 * n,
                lost: 2,
            },
        };
        let t = Inventory::of(vec![row("LPG", 3), row("N2O", 1)]);
        assert_eq!((t.total.shipped, t.total.total, t.total.lost), (4, 40, 4));
        let json = serde_json::to_value(&t).unwrap_or_default();
        assert_eq!(json["rows"][0]["medium"], "LPG");
        assert_eq!(json["rows"][0]["in_transit"], 3);
        assert_eq!(json["total"]["returning"], 2);
    }
}

/// One enterprise's real-name registration progress (实名制开户进度, seed 001 §4.1.11 and
/// §4.1.15) and tag issuance (发卡率, seed 002 §5.2.1.4). Cylinders in use are those not
/// scrapped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Registration {
    /// The enterprise's code (absent in the total).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise_code: Option<crate::ids::EnterpriseCode>,
    /// Customer accounts opened (开户数), per kind (household, restaurant, industrial).
    pub customers: std::collections::BTreeMap<String, i64>,
    pub customers_total: i64,
    /// Cylinders in use with an archive (钢瓶开户数).
    pub cylinders: i64,
    /// Of those, with their usage registration (钢瓶实名登记数: `registration_no`).
    pub registered: i64,
    /// `registered / cylinders` (1 when there are none).
    pub registration_rate: f64,
    /// Cylinders in use whose tag is issued and valid (every archive carries one).
    pub tags_issued: i64,
    /// `tags_issued / cylinders` (1 when there are none).
    pub tag_issuance_rate: f64,
    /// Cylinders in use whose tag has been read in the field at least once.
    pub tags_seen: i64,
    /// Tags voided with their scrapped cylinders.
    pub tags_void: i64,
    /// The lists behind the figures: `cylinders`, `unregistered`, `tags_never_seen`,
    /// `customers`.
    #[serde(default, skip_serializing_if = "Links::is_empty")]
    #[cfg_attr(feature = "openapi", schema(inline))]
    pub links: Links,
}

/// `GET /api/v1/stats/registration`: per enterprise, and in total.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegistrationStats {
    pub groups: Vec<Registration>,
    pub total: Registration,
}

impl Registration {
    /// A group's figures from its counts; the rates are 1 for an enterprise without cylinders.
    pub fn of(
        enterprise_code: Option<crate::ids::EnterpriseCode>,
        customers: std::collections::BTreeMap<String, i64>,
        cylinders: i64,
        registered: i64,
        tags_seen: i64,
        tags_void: i64,
    ) -> Self {
        // Counts of cylinders stay far below 2^52, where f64 is exact.
        #[allow(clippy::cast_precision_loss)]
        let rate = |part: i64| {
            if cylinders == 0 {
                1.0
            } else {
                part as f64 / cylinders as f64
            }
        };
        Self {
            enterprise_code,
            customers_total: customers.values().sum(),
            customers,
            cylinders,
            registered,
            registration_rate: rate(registered),
            tags_issued: cylinders,
            tag_issuance_rate: rate(cylinders),
            tags_seen,
            tags_void,
            links: Links::new(),
        }
    }
}
