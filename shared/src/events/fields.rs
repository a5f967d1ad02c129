//! Typed access to an event object's fields: each error names its field.

use super::VehicleAlarm;
use crate::error::{ErrorCode, ErrorDetail};
use crate::ids::{CodeError, VehiclePlate};
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

pub(super) fn code_error(field: &str, error: &CodeError) -> ErrorDetail {
    invalid(field, format!("\"{field}\" {error}"))
}

pub(super) fn invalid(field: &str, message: impl Into<String>) -> ErrorDetail {
    ErrorDetail::new(ErrorCode::InvalidField, message).with_field(field)
}

pub(super) fn missing(field: &str) -> ErrorDetail {
    ErrorDetail::new(ErrorCode::MissingField, format!("\"{field}\" is required")).with_field(field)
}

/// Typed access to an event object's fields, each error naming its field.
pub(super) struct Fields<'a>(pub(super) &'a Map<String, Value>);

impl Fields<'_> {
    pub(super) fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    pub(super) fn only(&self, allowed: &[&str]) -> Result<(), ErrorDetail> {
        match self.0.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(extra) => Err(ErrorDetail::new(
                ErrorCode::UnknownField,
                format!(
                    "unknown field \"{extra}\"; expected one of {}",
                    allowed.join(", ")
                ),
            )
            .with_field(extra.clone())),
            None => Ok(()),
        }
    }

    pub(super) fn str(&self, name: &str) -> Result<&str, ErrorDetail> {
        match self.get(name) {
            None => Err(missing(name)),
            Some(Value::String(s)) => Ok(s),
            Some(_) => Err(invalid(name, format!("\"{name}\" must be a string"))),
        }
    }

    pub(super) fn text(&self, name: &str) -> Result<String, ErrorDetail> {
        let text = self.str(name)?;
        if text.trim().is_empty()
            || text.chars().count() > 200
            || text.chars().any(char::is_control)
        {
            return Err(invalid(
                name,
                format!("\"{name}\" must be 1 to 200 characters of text"),
            ));
        }
        Ok(text.to_owned())
    }

    pub(super) fn plate(&self, name: &str) -> Result<VehiclePlate, ErrorDetail> {
        VehiclePlate::try_from(self.str(name)?.to_owned())
            .map_err(|e| invalid(name, format!("{name} {e}")))
    }

    pub(super) fn code<T: TryFrom<String, Error = CodeError>>(
        &self,
        name: &str,
    ) -> Result<T, ErrorDetail> {
        T::try_from(self.str(name)?.to_owned()).map_err(|e| code_error(name, &e))
    }

    pub(super) fn opt_code<T: TryFrom<String, Error = CodeError>>(
        &self,
        name: &str,
    ) -> Result<Option<T>, ErrorDetail> {
        match self.get(name) {
            None => Ok(None),
            Some(_) => self.code(name).map(Some),
        }
    }

    pub(super) fn date(&self, name: &str) -> Result<NaiveDate, ErrorDetail> {
        let text = self.str(name)?;
        let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| invalid(name, format!("\"{name}\" must be a date YYYY-MM-DD")))?;
        let (earliest, latest) = instant_bounds();
        if date < earliest.date_naive() || date >= latest.date_naive() {
            return Err(invalid(name, format!("\"{name}\" is out of range")));
        }
        Ok(date)
    }

    pub(super) fn uuid(&self, name: &str) -> Result<Uuid, ErrorDetail> {
        Uuid::parse_str(self.str(name)?)
            .map_err(|_| invalid(name, format!("\"{name}\" must be a UUID")))
    }

    pub(super) fn instant(&self, name: &str) -> Result<DateTime<FixedOffset>, ErrorDetail> {
        let text = self.str(name)?;
        let at = DateTime::parse_from_rfc3339(text).map_err(|_| {
            invalid(
                name,
                format!("\"{name}\" must be an RFC 3339 instant with an offset"),
            )
        })?;
        let (earliest, latest) = instant_bounds();
        if at.with_timezone(&Utc) < earliest || at.with_timezone(&Utc) >= latest {
            return Err(invalid(
                name,
                format!(
                    "\"{name}\" must lie between {} and {}",
                    earliest.date_naive(),
                    latest.date_naive()
                ),
            ));
        }
        Ok(at)
    }

    pub(super) fn f64(&self, name: &str) -> Result<f64, ErrorDetail> {
        match self.get(name) {
            None => Err(missing(name)),
            Some(Value::Number(n)) => n
                .as_f64()
                .filter(|f| f.is_finite())
                .ok_or_else(|| invalid(name, format!("\"{name}\" must be a finite number"))),
            Some(_) => Err(invalid(name, format!("\"{name}\" must be a number"))),
        }
    }

    pub(super) fn opt_f64_in(
        &self,
        name: &str,
        min: f64,
        max: f64,
    ) -> Result<Option<f64>, ErrorDetail> {
        if self.get(name).is_none() {
            return Ok(None);
        }
        let value = self.f64(name)?;
        if !(min..=max).contains(&value) {
            return Err(invalid(
                name,
                format!("\"{name}\" must be between {min} and {max}"),
            ));
        }
        Ok(Some(value))
    }

    /// A list of alarm names (`VehicleAlarm`), each once; absent: none.
    pub(super) fn alarms(&self, name: &str) -> Result<Vec<VehicleAlarm>, ErrorDetail> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) if items.len() <= VehicleAlarm::ALL.len() => {
                let mut alarms = Vec::with_capacity(items.len());
                for item in items {
                    let alarm =
                        item.as_str()
                            .and_then(VehicleAlarm::from_name)
                            .ok_or_else(|| {
                                invalid(
                                    name,
                                    format!(
                                        "\"{name}\" lists alarm names, each one of {}",
                                        VehicleAlarm::ALL
                                            .iter()
                                            .map(|a| a.name())
                                            .collect::<Vec<_>>()
                                            .join(", ")
                                    ),
                                )
                            })?;
                    if !alarms.contains(&alarm) {
                        alarms.push(alarm);
                    }
                }
                Ok(alarms)
            }
            Some(_) => Err(invalid(
                name,
                format!("\"{name}\" must be an array of alarm names"),
            )),
        }
    }
}

/// Instants outside these bounds are typing errors, not late or early devices.
pub(super) fn instant_bounds() -> (DateTime<Utc>, DateTime<Utc>) {
    let day = |y, m, d| {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc())
            .unwrap_or_default()
    };
    (day(2000, 1, 1), day(2100, 1, 1))
}
