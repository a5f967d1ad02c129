//! The kinds of places and subjects records name, as stored and sent.

use serde::{Deserialize, Serialize};

/// Where a cylinder is kept or carried: `cylinder_state.place_kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PlaceKind {
    Station,
    Customer,
    Vehicle,
}

/// What an alert is about: `alerts.subject_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    Cylinder,
    Vehicle,
    Station,
    Customer,
    Staff,
    Device,
    /// An unknown tag (an illegal tag has no cylinder).
    Tag,
    /// An enterprise (its licences: `licence_expiring`, `licence_expired`).
    Enterprise,
}

macro_rules! names {
    ($t:ty { $($v:ident => $n:literal),* $(,)? }) => {
        impl $t {
            /// Every value.
            pub const ALL: &'static [$t] = &[$(<$t>::$v),*];

            /// The stored and wire name.
            pub fn name(self) -> &'static str {
                match self {
                    $(<$t>::$v => $n,)*
                }
            }

            /// Parses a name.
            pub fn from_name(name: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.name() == name)
            }
        }
    };
}
pub(crate) use names;

names!(PlaceKind {
    Station => "station",
    Customer => "customer",
    Vehicle => "vehicle",
});

names!(SubjectKind {
    Cylinder => "cylinder",
    Vehicle => "vehicle",
    Station => "station",
    Customer => "customer",
    Staff => "staff",
    Device => "device",
    Tag => "tag",
    Enterprise => "enterprise",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_serde_and_round_trip() {
        for kind in SubjectKind::ALL {
            let json = serde_json::to_string(kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.name()));
            assert_eq!(SubjectKind::from_name(kind.name()), Some(*kind));
        }
        for kind in PlaceKind::ALL {
            assert_eq!(PlaceKind::from_name(kind.name()), Some(*kind));
        }
        assert_eq!(SubjectKind::from_name("planet"), None);
    }
}
