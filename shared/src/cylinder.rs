//! A cylinder as the API shows it: compliance (SPEC §1), custody (SPEC §2), its history
//! (钢瓶历史跟踪) and the public QR view.

use crate::ids::{CylinderCode, GeoPoint, StaffNo, StationCode, VehiclePlate};
use crate::medium::Medium;
use crate::registry::CylinderArchive;
use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Compliance on a given date. Declared worst first: when several apply, the smallest wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Compliance {
    Scrapped,
    LifeExpired,
    InspectionOverdue,
    Unregistered,
    DueSoon,
    Ok,
}

impl Compliance {
    /// Every status, worst first.
    pub const ALL: [Self; 6] = [
        Self::Scrapped,
        Self::LifeExpired,
        Self::InspectionOverdue,
        Self::Unregistered,
        Self::DueSoon,
        Self::Ok,
    ];

    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Scrapped => "scrapped",
            Self::LifeExpired => "life_expired",
            Self::InspectionOverdue => "inspection_overdue",
            Self::Unregistered => "unregistered",
            Self::DueSoon => "due_soon",
            Self::Ok => "ok",
        }
    }

    /// Parses a wire name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }

    /// What the public sees: 合格, 即将到期, 过期 or 报废 (and 未登记).
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Scrapped | Self::LifeExpired => "报废",
            Self::InspectionOverdue => "过期",
            Self::Unregistered => "未登记",
            Self::DueSoon => "即将到期",
            Self::Ok => "合格",
        }
    }

    /// The traffic-light colour of the public page.
    pub fn light(self) -> Light {
        match self {
            Self::Ok => Light::Green,
            Self::DueSoon => Light::Amber,
            _ => Light::Red,
        }
    }
}

/// Green: safe to use; amber: inspection due soon; red: must not be used or filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Light {
    Green,
    Amber,
    Red,
}

/// Where a cylinder is (SPEC §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Custody {
    InStockEmpty,
    InStockFull,
    InTransitDelivery,
    AtCustomer,
    InTransitReturn,
    AtInspection,
    Scrapped,
    Lost,
}

impl Custody {
    /// Every state.
    pub const ALL: [Self; 8] = [
        Self::InStockEmpty,
        Self::InStockFull,
        Self::InTransitDelivery,
        Self::AtCustomer,
        Self::InTransitReturn,
        Self::AtInspection,
        Self::Scrapped,
        Self::Lost,
    ];

    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            Self::InStockEmpty => "in_stock_empty",
            Self::InStockFull => "in_stock_full",
            Self::InTransitDelivery => "in_transit_delivery",
            Self::AtCustomer => "at_customer",
            Self::InTransitReturn => "in_transit_return",
            Self::AtInspection => "at_inspection",
            Self::Scrapped => "scrapped",
            Self::Lost => "lost",
        }
    }

    /// Parses a wire name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::InStockEmpty => "在库空瓶",
            Self::InStockFull => "在库满瓶",
            Self::InTransitDelivery => "送提在途",
            Self::AtCustomer => "已送提",
            Self::InTransitReturn => "回收在途",
            Self::AtInspection => "送检中",
            Self::Scrapped => "已报废",
            Self::Lost => "流失",
        }
    }
}

/// What a scan records (SPEC §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ScanOp {
    Fill,
    StoreIn,
    StoreOut,
    Load,
    Unload,
    Deliver,
    CollectEmpty,
    ReturnIn,
    SendInspection,
    Inspect,
    Scrap,
    Transfer,
}

impl ScanOp {
    /// Every operation.
    pub const ALL: [Self; 12] = [
        Self::Fill,
        Self::StoreIn,
        Self::StoreOut,
        Self::Load,
        Self::Unload,
        Self::Deliver,
        Self::CollectEmpty,
        Self::ReturnIn,
        Self::SendInspection,
        Self::Inspect,
        Self::Scrap,
        Self::Transfer,
    ];

    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Fill => "fill",
            Self::StoreIn => "store_in",
            Self::StoreOut => "store_out",
            Self::Load => "load",
            Self::Unload => "unload",
            Self::Deliver => "deliver",
            Self::CollectEmpty => "collect_empty",
            Self::ReturnIn => "return_in",
            Self::SendInspection => "send_inspection",
            Self::Inspect => "inspect",
            Self::Scrap => "scrap",
            Self::Transfer => "transfer",
        }
    }

    /// Parses a wire name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.name() == name)
    }

    /// The Chinese label of the history table (充装, 销售扫描, 调拨扫描 ...).
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Fill => "充装",
            Self::StoreIn => "入库扫描",
            Self::StoreOut => "出库扫描",
            Self::Load => "装车扫描",
            Self::Unload => "卸车扫描",
            Self::Deliver => "销售扫描",
            Self::CollectEmpty => "回收空瓶",
            Self::ReturnIn => "回瓶入库",
            Self::SendInspection => "送检",
            Self::Inspect => "检验",
            Self::Scrap => "报废",
            Self::Transfer => "调拨扫描",
        }
    }
}

/// Where a cylinder is held now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlaceRef {
    /// `station`, `customer` or `vehicle`.
    #[serde(rename = "type")]
    pub kind: String,
    pub code: String,
    pub name: Option<String>,
}

/// `GET /api/v1/cylinders/{code}`: the archive, its compliance on `as_of`, where it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CylinderView {
    #[serde(flatten)]
    pub archive: CylinderArchive,
    pub as_of: NaiveDate,
    pub compliance: Compliance,
    /// Every status that applies, worst first (`compliance` is the first).
    pub compliance_all: Vec<Compliance>,
    pub life_ends_on: NaiveDate,
    pub custody: Custody,
    pub custody_place: Option<PlaceRef>,
    pub position: Option<GeoPoint>,
    pub last_seen_at: Option<DateTime<FixedOffset>>,
    pub last_filled_at: Option<DateTime<FixedOffset>>,
    /// Events whose transition was impossible from the state before them.
    pub flagged_events: i64,
    pub owner_name: Option<String>,
    pub station_name: Option<String>,
    /// The QR payload: region code + cylinder code (seed 002 §5.1.1).
    pub qr_payload: String,
    /// The record's version (also its `ETag`; a `PATCH` names it in `If-Match`).
    #[serde(default)]
    pub version: i64,
}

/// One line of a cylinder's history (钢瓶历史跟踪), in event-time order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryEntry {
    pub id: Uuid,
    /// `scan`, `ble`, `check`, `inspection` (and `filling` once filling records exist).
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<String>,
    pub occurred_at: DateTime<FixedOffset>,
    pub received_at: DateTime<FixedOffset>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub station_code: Option<StationCode>,
    /// The name of where it happened (操作地点).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    /// Where it went (目标地点): the customer or station it was delivered or moved to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_place: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<GeoPoint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_no: Option<StaffNo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vehicle_plate: Option<VehiclePlate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mass_before_kg: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mass_after_kg: Option<f64>,
    /// The custody state after this event.
    pub custody_after: Custody,
    /// Why the transition was impossible from the state before it, when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flag: Option<String>,
    /// Kind-specific facts (check stage and result, inspection conclusion ...).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub details: serde_json::Value,
}

/// A page of a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// One place of the public history: no people, no customers' names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublicHistoryItem {
    pub op: String,
    pub at: DateTime<FixedOffset>,
    pub place: Option<String>,
}

/// `GET /api/v1/public/cylinders/{code}`: what the QR code shows; no personal data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublicCylinder {
    pub code: CylinderCode,
    pub medium: Medium,
    pub owner: Option<String>,
    pub compliance: Compliance,
    pub light: Light,
    pub label_zh: String,
    pub next_inspection_on: NaiveDate,
    pub life_ends_on: NaiveDate,
    pub last_filled_at: Option<DateTime<FixedOffset>>,
    pub history: Vec<PublicHistoryItem>,
}
