//! What the daily licence pass reads and writes: every licence with its end date (the view
//! `licence_validity`), the notices raised (`licence_notices`, once per licence and end date)
//! and the open licence alerts.

use crate::store::alerts::{AlertRow, NewAlert};
use anyhow::Context;
use chrono::NaiveDate;
use shared::alert::AlertKind;
use shared::ids::{DistrictCode, EnterpriseCode};
use shared::place::SubjectKind;
use sqlx::PgPool;

/// One licence or certificate of an active holder, with its holder's district.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Licence {
    /// The alert subject's type: `enterprise`, `staff`, `vehicle`, `customer`.
    pub subject_kind: SubjectKind,
    /// The alert subject's id (staff: `enterprise_code/staff_no`).
    pub subject_key: String,
    pub enterprise_code: EnterpriseCode,
    pub district_code: Option<DistrictCode>,
    pub licence_kind: String,
    pub number: Option<String>,
    pub valid_to: NaiveDate,
    /// `licence_expiring` was raised for this licence and end date before.
    pub expiring_noticed: bool,
    /// `licence_expired` was raised for this licence and end date before.
    pub expired_noticed: bool,
}

impl Licence {
    /// Whether an alert of `kind` was raised for this licence and end date before.
    pub fn noticed(&self, kind: AlertKind) -> bool {
        match kind {
            AlertKind::LicenceExpiring => self.expiring_noticed,
            AlertKind::LicenceExpired => self.expired_noticed,
            _ => false,
        }
    }
}

/// Every licence with an end date, of active holders, grouped by holder, with the notices
/// raised for it (a pass then writes only what is new).
pub async fn all(pool: &PgPool) -> anyhow::Result<Vec<Licence>> {
    let noticed = |kind: &str| {
        format!(
            "EXISTS (SELECT 1 FROM licence_notices n WHERE n.alert_kind = '{kind}' \
               AND n.subject_kind = v.subject_kind AND n.subject_key = v.subject_key \
               AND n.licence_kind = v.licence_kind AND n.valid_to = v.valid_to)"
        )
    };
    let sql = format!(
        "SELECT v.subject_kind, v.subject_key, v.enterprise_code, e.district_code, \
                v.licence_kind, v.number, v.valid_to, {} AS expiring_noticed, \
                {} AS expired_noticed \
         FROM licence_validity v JOIN enterprises e ON e.code = v.enterprise_code \
         ORDER BY v.subject_kind, v.subject_key, v.valid_to, v.licence_kind",
        noticed(AlertKind::LicenceExpiring.name()),
        noticed(AlertKind::LicenceExpired.name()),
    );
    sqlx::query_as(&sql)
        .fetch_all(pool)
        .await
        .context("reading licences' validity")
}

/// Raises `alert` about `licence` unless this kind of alert was raised for this licence and
/// end date before (by this instance or another): the notice and its alert are written
/// together. The alert when it was raised or counted again now.
pub async fn notice(
    pool: &PgPool,
    licence: &Licence,
    alert: &NewAlert,
) -> anyhow::Result<Option<AlertRow>> {
    let mut tx = pool.begin().await.context("starting a licence notice")?;
    let fresh = sqlx::query(
        "INSERT INTO licence_notices (alert_kind, subject_kind, subject_key, licence_kind, valid_to) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(alert.kind.name())
    .bind(licence.subject_kind)
    .bind(&licence.subject_key)
    .bind(&licence.licence_kind)
    .bind(licence.valid_to)
    .execute(&mut *tx)
    .await
    .context("recording a licence notice")?
    .rows_affected()
        == 1;
    if !fresh {
        return Ok(None);
    }
    let row = crate::store::alerts::raise(&mut *tx, alert).await?;
    tx.commit().await.context("committing a licence notice")?;
    Ok(row)
}

/// Subjects `(subject_type, subject_id)` of unresolved alerts of `kind` whose condition has not
/// ended.
pub async fn open_subjects(
    pool: &PgPool,
    kind: AlertKind,
) -> anyhow::Result<Vec<(SubjectKind, String)>> {
    sqlx::query_as(
        "SELECT subject_type, subject_id FROM alerts \
         WHERE kind = $1 AND status <> 'resolved' AND condition_ended_at IS NULL",
    )
    .bind(kind.name())
    .fetch_all(pool)
    .await
    .context("reading open licence alerts")
}
