//! With the `sqlx` feature: the newtypes and text enums are PostgreSQL `text` values. A stored
//! value that does not parse (a code with a bad character, an alert kind this build does not
//! know) is a decode error naming the type and the value: never skipped, never a default.

use crate::alert::{AlertKind, AlertStatus, Severity};
use crate::auth::{DeviceKind, RecordStatus, Role};
use crate::cylinder::{Compliance, Custody, ScanOp};
use crate::filling::{FillingFlag, FillingRule};
use crate::history::{HistoryKind, HistoryOp};
use crate::ids::{
    CustomerCode, CylinderCode, DeviceId, DistrictCode, EnterpriseCode, StaffNo, StationCode,
    TagId, VehiclePlate,
};
use crate::incident::{
    IncidentKind, IncidentLevel, IncidentStatus, ResponderKind, TaskStatus, TimelineWhat,
};
use crate::medium::Medium;
use crate::place::{PlaceKind, SubjectKind};
use crate::transfer::TransferStatus;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgHasArrayType, PgRow, PgTypeInfo, PgValueRef, Postgres};
use sqlx::Row;

/// Implements `sqlx::Type`, `Encode` and `Decode` as text: the method `$to` gives the text,
/// `$from` parses it (`None`: not a valid value).
macro_rules! as_text {
    ($t:ty, $to:ident, $from:expr) => {
        impl sqlx::Type<Postgres> for $t {
            fn type_info() -> PgTypeInfo {
                <&str as sqlx::Type<Postgres>>::type_info()
            }

            fn compatible(ty: &PgTypeInfo) -> bool {
                <&str as sqlx::Type<Postgres>>::compatible(ty)
            }
        }

        impl PgHasArrayType for $t {
            fn array_type_info() -> PgTypeInfo {
                <&str as PgHasArrayType>::array_type_info()
            }
        }

        impl sqlx::Encode<'_, Postgres> for $t {
            fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
                let text: &str = self.$to();
                <&str as sqlx::Encode<Postgres>>::encode_by_ref(&text, buf)
            }
        }

        impl<'r> sqlx::Decode<'r, Postgres> for $t {
            fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
                let text = <&str as sqlx::Decode<'r, Postgres>>::decode(value)?;
                let parsed: Option<$t> = ($from)(text);
                parsed.ok_or_else(|| {
                    format!("stored {} {text:?} is not a valid one", stringify!($t)).into()
                })
            }
        }
    };
}

macro_rules! code_as_text {
    ($($t:ty),*) => {
        $(as_text!($t, as_str, |s: &str| <$t>::try_from(s.to_owned()).ok());)*
    };
}

macro_rules! enum_as_text {
    ($($t:ty),*) => {
        $(as_text!($t, name, <$t>::from_name);)*
    };
}

code_as_text!(
    CylinderCode,
    TagId,
    EnterpriseCode,
    StationCode,
    CustomerCode,
    StaffNo,
    DeviceId,
    DistrictCode,
    VehiclePlate
);
enum_as_text!(
    AlertKind,
    Severity,
    AlertStatus,
    Role,
    DeviceKind,
    Custody,
    Compliance,
    ScanOp,
    FillingRule,
    FillingFlag,
    PlaceKind,
    SubjectKind,
    HistoryKind,
    RecordStatus,
    TransferStatus,
    IncidentKind,
    IncidentLevel,
    IncidentStatus,
    TimelineWhat,
    ResponderKind,
    TaskStatus
);

/// A history row's `kind` and `op` columns read together (`#[sqlx(flatten)]`): a pair that
/// does not exist is a decode error naming both.
impl<'r> sqlx::FromRow<'r, PgRow> for HistoryOp {
    fn from_row(row: &'r PgRow) -> Result<Self, sqlx::Error> {
        let kind: &str = row.try_get("kind")?;
        let op: Option<&str> = row.try_get("op")?;
        HistoryOp::from_parts(kind, op).ok_or_else(|| sqlx::Error::ColumnDecode {
            index: "kind, op".to_owned(),
            source: format!("stored history kind {kind:?} with op {op:?} is not a valid pair")
                .into(),
        })
    }
}

as_text!(Medium, code, |s: &str| Medium::try_from(s.to_owned()).ok());
