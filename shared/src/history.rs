//! What one row of a cylinder's history records: `cylinder_events.kind` and `op` together.

use crate::cylinder::ScanOp;
use crate::events::{CheckStage, Conclusion};

/// A history row's kind and operation, as one value: the pairs that exist and no others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HistoryOp {
    /// `scan` with its operation.
    Scan(ScanOp),
    /// `ble`/`seen`: a vehicle's reader listed the tag.
    BleSeen,
    /// `ble`/`left`: a vehicle's reader stopped listing the tag.
    BleLeft,
    /// `check` with its stage.
    Check(CheckStage),
    /// `inspection` with its conclusion.
    Inspection(Conclusion),
    /// `filling`/`fill`: a filling record.
    Filling,
    /// `archive`/`replace_tag`: the cylinder's tag was replaced (details: `old_tag_id`,
    /// `tag_id`, `reason`, `by`); not a sighting.
    TagReplaced,
    /// `archive`/`change_owner`: an accepted transfer gave the cylinder to another enterprise
    /// (details: `transfer_id`, `from_enterprise_code`, `to_enterprise_code`, `station_code`,
    /// `by`); not a sighting.
    OwnerChanged,
}

/// The kind of a history row (`cylinder_events.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HistoryKind {
    Scan,
    Ble,
    Check,
    Inspection,
    Filling,
    Archive,
}

crate::place::names!(HistoryKind {
    Scan => "scan",
    Ble => "ble",
    Check => "check",
    Inspection => "inspection",
    Filling => "filling",
    Archive => "archive",
});

impl HistoryOp {
    /// The row's kind.
    pub fn kind(self) -> HistoryKind {
        match self {
            Self::Scan(_) => HistoryKind::Scan,
            Self::BleSeen | Self::BleLeft => HistoryKind::Ble,
            Self::Check(_) => HistoryKind::Check,
            Self::Inspection(_) => HistoryKind::Inspection,
            Self::Filling => HistoryKind::Filling,
            Self::TagReplaced | Self::OwnerChanged => HistoryKind::Archive,
        }
    }

    /// The row's `op` text.
    pub fn op(self) -> &'static str {
        match self {
            Self::Scan(op) => op.name(),
            Self::BleSeen => "seen",
            Self::BleLeft => "left",
            Self::Check(stage) => stage.name(),
            Self::Inspection(conclusion) => conclusion.name(),
            Self::Filling => "fill",
            Self::TagReplaced => "replace_tag",
            Self::OwnerChanged => "change_owner",
        }
    }

    /// Every pair that exists.
    pub fn all() -> Vec<Self> {
        let mut all: Vec<Self> = ScanOp::ALL.into_iter().map(Self::Scan).collect();
        all.extend(CheckStage::ALL.iter().map(|s| Self::Check(*s)));
        all.extend(Conclusion::ALL.iter().map(|c| Self::Inspection(*c)));
        all.extend([
            Self::BleSeen,
            Self::BleLeft,
            Self::Filling,
            Self::TagReplaced,
            Self::OwnerChanged,
        ]);
        all
    }

    /// The `op` text of some existing pair (of `kind`, when given) equal to `op`; `None` when no
    /// such pair exists.
    pub fn known_op(kind: Option<HistoryKind>, op: &str) -> Option<&'static str> {
        Self::all()
            .into_iter()
            .filter(|pair| kind.is_none_or(|k| pair.kind() == k))
            .map(Self::op)
            .find(|name| *name == op)
    }

    /// Parses a stored `kind` and `op`; `None` for a pair that does not exist.
    pub fn from_parts(kind: &str, op: Option<&str>) -> Option<Self> {
        let op = op?;
        match HistoryKind::from_name(kind)? {
            HistoryKind::Scan => ScanOp::from_name(op).map(Self::Scan),
            HistoryKind::Ble => match op {
                "seen" => Some(Self::BleSeen),
                "left" => Some(Self::BleLeft),
                _ => None,
            },
            HistoryKind::Check => CheckStage::from_name(op).map(Self::Check),
            HistoryKind::Inspection => Conclusion::from_name(op).map(Self::Inspection),
            HistoryKind::Filling => (op == "fill").then_some(Self::Filling),
            HistoryKind::Archive => match op {
                "replace_tag" => Some(Self::TagReplaced),
                "change_owner" => Some(Self::OwnerChanged),
                _ => None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_round_trip() {
        let all = HistoryOp::all();
        for stage in CheckStage::ALL {
            let json = serde_json::to_string(stage).unwrap();
            assert_eq!(json, format!("\"{}\"", stage.name()));
        }
        for conclusion in Conclusion::ALL {
            let json = serde_json::to_string(conclusion).unwrap();
            assert_eq!(json, format!("\"{}\"", conclusion.name()));
        }
        for op in all {
            assert_eq!(
                HistoryOp::from_parts(op.kind().name(), Some(op.op())),
                Some(op)
            );
        }
        assert_eq!(
            HistoryOp::from_parts("inspection", Some("scrap")),
            Some(HistoryOp::Inspection(Conclusion::Scrap))
        );
        assert_eq!(
            HistoryOp::from_parts("scan", Some("scrap")),
            Some(HistoryOp::Scan(ScanOp::Scrap))
        );
        assert_eq!(HistoryOp::from_parts("ble", Some("fill")), None);
        assert_eq!(HistoryOp::from_parts("scan", None), None);
        assert_eq!(HistoryOp::known_op(None, "left"), Some("left"));
        assert_eq!(HistoryOp::known_op(Some(HistoryKind::Scan), "left"), None);
        assert_eq!(HistoryOp::known_op(None, "nonsense"), None);
        assert_eq!(HistoryOp::from_parts("gps", Some("seen")), None);
    }
}
