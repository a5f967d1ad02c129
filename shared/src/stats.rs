//! Statistics (API.md "Statistics"; SPEC §2, §7).

use serde::{Deserialize, Serialize};

/// The columns of the inventory table (seed 000 §3.7, SPEC §2): shipped = in transit +
/// delivered; total = every archived cylinder not scrapped, lost included; a lost cylinder
/// counts in no other column but total.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
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
pub struct InventoryRow {
    pub medium: String,
    #[serde(flatten)]
    pub counts: InventoryCounts,
}

/// `GET /api/v1/stats/inventory`: a row per medium and their sum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    pub rows: Vec<InventoryRow>,
    pub total: InventoryCounts,
}

impl Inventory {
    /// The table of these rows, with the total row their sum (the seed's own 合计 row does
    /// not add up; ours must).
    pub fn of(rows: Vec<InventoryRow>) -> Self {
        let mut total = InventoryCounts::default();
        for r in &rows {
            total += r.counts;
        }
        Self { rows, total }
    }
}

/// How `GET /api/v1/stats/compliance` groups.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
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
pub struct ComplianceGroup {
    /// The enterprise's or district's code.
    pub key: String,
    pub counts: ComplianceCounts,
}

/// `GET /api/v1/stats/compliance`: per enterprise or district, and in total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplianceDistribution {
    pub group_by: GroupBy,
    pub groups: Vec<ComplianceGroup>,
    pub total: ComplianceCounts,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_total_row_is_the_sum_and_the_wire_shape_is_flat() {
        let row = |m: &str, n: i64| InventoryRow {
            medium: m.into(),
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
