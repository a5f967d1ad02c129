//! Filling media (充装介质) by their contract codes.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A medium a cylinder holds. An unknown code is refused at the boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Medium {
    Lpg,
    Dme,
    Lng,
    Cng,
    N2o,
    O2,
    N2,
    Ar,
    He,
    H2,
    Co2,
    C2h2,
}

/// An unknown medium code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown medium \"{0}\"; expected one of LPG, DME, LNG, CNG, N2O, O2, N2, Ar, He, H2, CO2, C2H2")]
pub struct UnknownMedium(pub String);

impl Medium {
    /// Every medium, in the contract's order.
    pub const ALL: [Self; 12] = [
        Self::Lpg,
        Self::Dme,
        Self::Lng,
        Self::Cng,
        Self::N2o,
        Self::O2,
        Self::N2,
        Self::Ar,
        Self::He,
        Self::H2,
        Self::Co2,
        Self::C2h2,
    ];

    /// The contract code, e.g. `LPG`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Lpg => "LPG",
            Self::Dme => "DME",
            Self::Lng => "LNG",
            Self::Cng => "CNG",
            Self::N2o => "N2O",
            Self::O2 => "O2",
            Self::N2 => "N2",
            Self::Ar => "Ar",
            Self::He => "He",
            Self::H2 => "H2",
            Self::Co2 => "CO2",
            Self::C2h2 => "C2H2",
        }
    }

    /// The Chinese name, e.g. `液化石油气`.
    pub fn name_zh(self) -> &'static str {
        match self {
            Self::Lpg => "液化石油气",
            Self::Dme => "二甲醚",
            Self::Lng => "液化天然气",
            Self::Cng => "压缩天然气",
            Self::N2o => "氧化亚氮",
            Self::O2 => "氧气",
            Self::N2 => "氮气",
            Self::Ar => "氩气",
            Self::He => "氦气",
            Self::H2 => "氢气",
            Self::Co2 => "二氧化碳",
            Self::C2h2 => "乙炔",
        }
    }

    /// Controlled media need a customer licence (SPEC §9, seed 003).
    pub fn is_controlled(self) -> bool {
        matches!(self, Self::N2o)
    }
}

impl TryFrom<String> for Medium {
    type Error = UnknownMedium;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl std::str::FromStr for Medium {
    type Err = UnknownMedium;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|m| m.code() == value)
            .ok_or_else(|| UnknownMedium(value.to_owned()))
    }
}

impl From<Medium> for String {
    fn from(value: Medium) -> Self {
        value.code().to_owned()
    }
}

impl fmt::Display for Medium {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_is_refused() {
        for m in Medium::ALL {
            assert_eq!(m.code().parse::<Medium>(), Ok(m));
            let json = serde_json::to_string(&m).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", m.code()));
        }
        assert!("lpg".parse::<Medium>().is_err());
        assert!(serde_json::from_str::<Medium>("\"XE\"").is_err());
        assert!(Medium::N2o.is_controlled());
        assert!(!Medium::Lpg.is_controlled());
    }
}
