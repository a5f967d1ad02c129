//! Transfers of cylinders between enterprises (migration 0047): the offer, its decision, and
//! the accept that moves every cylinder's owner and registered station in one transaction
//! (revisions, ownership periods, the old owner's open cylinder alerts closed).

use super::WriteError;
use crate::access::Scope;
use anyhow::Context;
use chrono::{DateTime, Utc};
use shared::auth::RecordStatus;
use shared::ids::{CylinderCode, EnterpriseCode, StationCode};
use shared::transfer::{NewTransfer, Transfer, TransferStatus};
use shared::{ErrorCode, ErrorDetail};
use sqlx::{PgConnection, PgPool};
use std::collections::HashMap;

/// How many codes an error message lists before "and N more".
const NAMED: usize = 10;

fn refused(code: ErrorCode, field: &str, message: String) -> WriteError {
    WriteError::Invalid(ErrorDetail::new(code, message).with_field(field))
}

/// `codes` as a short list for a message.
fn listed(codes: &[String]) -> String {
    let mut text = codes
        .iter()
        .take(NAMED)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if codes.len() > NAMED {
        text.push_str(&format!(" and {} more", codes.len() - NAMED));
    }
    text
}

/// A transfer's own row.
#[derive(Debug, sqlx::FromRow)]
struct Row {
    id: i64,
    from_enterprise_code: EnterpriseCode,
    to_enterprise_code: EnterpriseCode,
    station_code: StationCode,
    status: TransferStatus,
    offered_at: DateTime<Utc>,
    offered_by: String,
    decided_at: Option<DateTime<Utc>>,
    decided_by: Option<String>,
}

impl Row {
    fn with(self, cylinder_codes: Vec<CylinderCode>) -> Transfer {
        Transfer {
            id: self.id,
            from_enterprise_code: self.from_enterprise_code,
            to_enterprise_code: self.to_enterprise_code,
            station_code: self.station_code,
            cylinder_codes,
            status: self.status,
            offered_at: self.offered_at,
            offered_by: self.offered_by,
            decided_at: self.decided_at,
            decided_by: self.decided_by,
        }
    }
}

const COLUMNS: &str = "t.id, t.from_enterprise_code, t.to_enterprise_code, t.station_code, \
    t.status, t.offered_at, t.offered_by, t.decided_at, t.decided_by";

/// The cylinders of these transfers, each transfer's in the offer's order.
async fn codes_of(
    conn: &mut PgConnection,
    ids: &[i64],
) -> anyhow::Result<HashMap<i64, Vec<CylinderCode>>> {
    let rows: Vec<(i64, CylinderCode)> = sqlx::query_as(
        "SELECT tc.transfer_id, c.code FROM transfer_cylinders tc \
         JOIN cylinders c ON c.id = tc.cylinder_id \
         WHERE tc.transfer_id = ANY($1) ORDER BY tc.transfer_id, tc.ord",
    )
    .bind(ids)
    .fetch_all(conn)
    .await
    .context("reading the cylinders of transfers")?;
    let mut codes: HashMap<i64, Vec<CylinderCode>> = HashMap::new();
    for (id, code) in rows {
        codes.entry(id).or_default().push(code);
    }
    Ok(codes)
}

/// Offers `offer.cylinder_codes` of enterprise `from` (the caller checked it may act for it,
/// that the list is non-empty, bounded and without duplicates, and that `from` is not the
/// receiver). Every cylinder must be `from`'s, not scrapped and in no other open transfer; the
/// receiver an active enterprise; the station an active station of the receiver's.
pub async fn offer(
    pool: &PgPool,
    from: &str,
    offer: &NewTransfer,
    by: &str,
) -> Result<Transfer, WriteError> {
    let mut tx = pool.begin().await?;
    let to = offer.to_enterprise_code.as_str();
    let receiver: Option<RecordStatus> =
        sqlx::query_scalar("SELECT status FROM enterprises WHERE code = $1")
            .bind(to)
            .fetch_optional(&mut *tx)
            .await?;
    match receiver {
        None => {
            return Err(refused(
                ErrorCode::UnknownReference,
                "to_enterprise_code",
                format!("no enterprise {to}"),
            ))
        }
        Some(status) if status != RecordStatus::Active => {
            return Err(refused(
                ErrorCode::RecordInactive,
                "to_enterprise_code",
                format!(
                    "enterprise {to} is {}: it receives no cylinders",
                    status.name()
                ),
            ))
        }
        Some(_) => {}
    }
    let station_code = offer.station_code.as_str();
    let station: Option<(String, RecordStatus)> =
        sqlx::query_as("SELECT enterprise_code, status FROM stations WHERE code = $1")
            .bind(station_code)
            .fetch_optional(&mut *tx)
            .await?;
    match station {
        Some((owner, status)) if owner == to => {
            if status != RecordStatus::Active {
                return Err(refused(
                    ErrorCode::RecordInactive,
                    "station_code",
                    format!(
                        "station {station_code} is {}: it gets no cylinders",
                        status.name()
                    ),
                ));
            }
        }
        // Another enterprise's station answers as no station of the receiver's.
        _ => {
            return Err(refused(
                ErrorCode::UnknownReference,
                "station_code",
                format!("{to} has no station {station_code}"),
            ))
        }
    }
    let codes: Vec<&str> = offer.cylinder_codes.iter().map(|c| c.as_str()).collect();
    let found: Vec<(i64, String, String, bool, Option<i64>)> = sqlx::query_as(
        "SELECT c.id, c.code, c.owner_enterprise_code, coalesce(s.custody = 'scrapped', false), \
                (SELECT tc.transfer_id FROM transfer_cylinders tc \
                 WHERE tc.cylinder_id = c.id AND tc.open) \
         FROM cylinders c LEFT JOIN cylinder_state s ON s.cylinder_id = c.id \
         WHERE c.code = ANY($1) ORDER BY c.id FOR UPDATE OF c",
    )
    .bind(&codes)
    .fetch_all(&mut *tx)
    .await?;
    // Another enterprise's cylinder answers as no cylinder.
    let own: HashMap<&str, (i64, bool, Option<i64>)> = found
        .iter()
        .filter(|(_, _, owner, _, _)| owner == from)
        .map(|(id, code, _, scrapped, open)| (code.as_str(), (*id, *scrapped, *open)))
        .collect();
    let missing: Vec<String> = codes
        .iter()
        .filter(|c| !own.contains_key(**c))
        .map(|c| (*c).to_owned())
        .collect();
    if !missing.is_empty() {
        return Err(refused(
            ErrorCode::UnknownReference,
            "cylinder_codes",
            format!("{from} has no cylinder {}", listed(&missing)),
        ));
    }
    let scrapped: Vec<String> = codes
        .iter()
        .filter(|c| own.get(**c).is_some_and(|o| o.1))
        .map(|c| (*c).to_owned())
        .collect();
    if !scrapped.is_empty() {
        return Err(refused(
            ErrorCode::InvalidTransition,
            "cylinder_codes",
            format!("scrapped, not transferred: {}", listed(&scrapped)),
        ));
    }
    let offered: Vec<String> = codes
        .iter()
        .filter_map(|c| {
            own.get(*c)
                .and_then(|o| o.2)
                .map(|t| format!("{c} (transfer {t})"))
        })
        .collect();
    if !offered.is_empty() {
        return Err(refused(
            ErrorCode::InvalidTransition,
            "cylinder_codes",
            format!("already offered in an open transfer: {}", listed(&offered)),
        ));
    }
    let row: Row = sqlx::query_as(&format!(
        "INSERT INTO transfers AS t (from_enterprise_code, to_enterprise_code, station_code, \
                                     offered_by) \
         VALUES ($1, $2, $3, $4) RETURNING {COLUMNS}"
    ))
    .bind(from)
    .bind(to)
    .bind(station_code)
    .bind(by)
    .fetch_one(&mut *tx)
    .await?;
    let ids: Vec<i64> = codes
        .iter()
        .filter_map(|c| own.get(*c).map(|o| o.0))
        .collect();
    sqlx::query(
        "INSERT INTO transfer_cylinders (transfer_id, cylinder_id, ord) \
         SELECT $1, t.id, t.ord FROM UNNEST($2::bigint[]) WITH ORDINALITY AS t(id, ord)",
    )
    .bind(row.id)
    .bind(&ids)
    .execute(&mut *tx)
    .await
    .map_err(|e| match WriteError::from(e) {
        // Offered at the same moment in another transfer.
        WriteError::Duplicate(_) => refused(
            ErrorCode::InvalidTransition,
            "cylinder_codes",
            "a cylinder was offered in another transfer at the same time".to_owned(),
        ),
        other => other,
    })?;
    tx.commit().await?;
    Ok(row.with(offer.cylinder_codes.clone()))
}

/// The SQL condition "the transfer is within `$2` (enterprise) / `$3` (district)": an
/// enterprise sees the transfers it is a party to, a district regulator those with a party in
/// its district.
const IN_SCOPE: &str = "($2::text IS NULL OR t.from_enterprise_code = $2 \
                         OR t.to_enterprise_code = $2) \
     AND ($3::text IS NULL OR ef.district_code = $3 OR et.district_code = $3)";

/// One transfer within `scope`.
pub async fn get(pool: &PgPool, id: i64, scope: &Scope) -> anyhow::Result<Option<Transfer>> {
    let mut conn = pool.acquire().await.context("reading a transfer")?;
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM transfers t \
         JOIN enterprises ef ON ef.code = t.from_enterprise_code \
         JOIN enterprises et ON et.code = t.to_enterprise_code \
         WHERE t.id = $1 AND {IN_SCOPE}"
    ))
    .bind(id)
    .bind(scope.enterprise())
    .bind(scope.district())
    .fetch_optional(&mut *conn)
    .await
    .context("reading a transfer")?;
    let Some(row) = row else {
        return Ok(None);
    };
    let mut codes = codes_of(&mut conn, &[row.id]).await?;
    let id = row.id;
    Ok(Some(row.with(codes.remove(&id).unwrap_or_default())))
}

/// Transfers within `scope`, newest first, before `before` (an id), optionally in one status.
pub async fn list(
    pool: &PgPool,
    scope: &Scope,
    status: Option<TransferStatus>,
    before: Option<i64>,
    limit: i64,
) -> anyhow::Result<Vec<Transfer>> {
    let mut conn = pool.acquire().await.context("listing transfers")?;
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM transfers t \
         JOIN enterprises ef ON ef.code = t.from_enterprise_code \
         JOIN enterprises et ON et.code = t.to_enterprise_code \
         WHERE ($1::bigint IS NULL OR t.id < $1) AND {IN_SCOPE} \
           AND ($4::text IS NULL OR t.status = $4) \
         ORDER BY t.id DESC LIMIT $5"
    ))
    .bind(before)
    .bind(scope.enterprise())
    .bind(scope.district())
    .bind(status)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await
    .context("listing transfers")?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut codes = codes_of(&mut conn, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let id = r.id;
            r.with(codes.remove(&id).unwrap_or_default())
        })
        .collect())
}

/// The transfer `id` locked for a decision, when it is still offered.
async fn offered(conn: &mut PgConnection, id: i64) -> Result<Row, WriteError> {
    let row: Row = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM transfers t WHERE t.id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_one(&mut *conn)
    .await?;
    if row.status != TransferStatus::Offered {
        return Err(WriteError::Invalid(ErrorDetail::new(
            ErrorCode::InvalidTransition,
            format!("transfer {id} is {}: it was decided", row.status.name()),
        )));
    }
    Ok(row)
}

/// Closes the offer `id` as `status` (declined or cancelled) by `by`: nothing moves.
pub async fn close(
    pool: &PgPool,
    id: i64,
    status: TransferStatus,
    by: &str,
) -> Result<Transfer, WriteError> {
    let mut tx = pool.begin().await?;
    offered(&mut tx, id).await?;
    let row = decide(&mut tx, id, status, by).await?;
    let mut codes = codes_of(&mut tx, &[id]).await?;
    tx.commit().await?;
    Ok(row.with(codes.remove(&id).unwrap_or_default()))
}

async fn decide(
    conn: &mut PgConnection,
    id: i64,
    status: TransferStatus,
    by: &str,
) -> Result<Row, WriteError> {
    let row: Row = sqlx::query_as(&format!(
        "UPDATE transfers t SET status = $2, decided_at = now(), decided_by = $3 \
         WHERE t.id = $1 RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(status)
    .bind(by)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query("UPDATE transfer_cylinders SET open = false WHERE transfer_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(row)
}

/// Accepts the offer `id` by `by` (the caller checked it speaks for the receiver): in one
/// transaction every cylinder's owner and registered station change, its version goes up
/// with a revision, the old owner's period is closed (`ownership_periods`) and its unresolved
/// alerts about the cylinder are resolved (they belong to its period; a later sighting opens
/// the new owner's own). A cylinder scrapped or no longer the offerer's refuses the whole
/// accept, naming it.
pub async fn accept(pool: &PgPool, id: i64, by: &str) -> Result<Transfer, WriteError> {
    let mut tx = pool.begin().await?;
    let transfer = offered(&mut tx, id).await?;
    let (from, to, station) = (
        transfer.from_enterprise_code.as_str(),
        transfer.to_enterprise_code.as_str(),
        transfer.station_code.as_str(),
    );
    let receiver: (RecordStatus, Option<(String, RecordStatus)>) = (
        sqlx::query_scalar("SELECT status FROM enterprises WHERE code = $1")
            .bind(to)
            .fetch_one(&mut *tx)
            .await?,
        sqlx::query_as("SELECT enterprise_code, status FROM stations WHERE code = $1")
            .bind(station)
            .fetch_optional(&mut *tx)
            .await?,
    );
    if receiver.0 != RecordStatus::Active {
        return Err(refused(
            ErrorCode::RecordInactive,
            "to_enterprise_code",
            format!(
                "enterprise {to} is {}: it receives no cylinders",
                receiver.0.name()
            ),
        ));
    }
    match receiver.1 {
        Some((owner, RecordStatus::Active)) if owner == to => {}
        Some((owner, status)) if owner == to => {
            return Err(refused(
                ErrorCode::RecordInactive,
                "station_code",
                format!(
                    "station {station} is {}: it gets no cylinders",
                    status.name()
                ),
            ))
        }
        _ => {
            return Err(refused(
                ErrorCode::UnknownReference,
                "station_code",
                format!("{to} has no station {station}"),
            ))
        }
    }
    // Locked in id order, as the custody stage locks them.
    let cylinders: Vec<(i64, String, String, bool)> = sqlx::query_as(
        "SELECT c.id, c.code, c.owner_enterprise_code, coalesce(s.custody = 'scrapped', false) \
         FROM transfer_cylinders tc JOIN cylinders c ON c.id = tc.cylinder_id \
         LEFT JOIN cylinder_state s ON s.cylinder_id = c.id \
         WHERE tc.transfer_id = $1 ORDER BY c.id FOR UPDATE OF c",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    let changed: Vec<String> = cylinders
        .iter()
        .filter(|(_, _, owner, scrapped)| owner != from || *scrapped)
        .map(|(_, code, owner, scrapped)| {
            let why = if *scrapped {
                "scrapped"
            } else if owner == to {
                "already the receiver's"
            } else {
                "no longer the offerer's"
            };
            format!("{code} ({why})")
        })
        .collect();
    if !changed.is_empty() {
        return Err(refused(
            ErrorCode::InvalidTransition,
            "cylinder_codes",
            format!(
                "changed since the offer, nothing transferred: {}",
                listed(&changed)
            ),
        ));
    }
    let ids: Vec<i64> = cylinders.iter().map(|c| c.0).collect();
    let row = decide(&mut tx, id, TransferStatus::Accepted, by).await?;
    let at = row.decided_at;
    sqlx::query(
        "INSERT INTO ownership_periods (cylinder_id, enterprise_code, since, until, transfer_id) \
         SELECT id, owner_enterprise_code, owned_since, $2, $3 FROM cylinders WHERE id = ANY($1)",
    )
    .bind(&ids)
    .bind(at)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    // One revision per cylinder, as `revisions::record` writes them (changes
    // {field: [before, after]}), in one statement for a bulk sale.
    let reason = format!("transfer {id}");
    sqlx::query(
        "WITH moved AS ( \
             UPDATE cylinders c SET owner_enterprise_code = $2, station_code = $3, \
                    owned_since = $4, version = c.version + 1 \
             FROM cylinders old WHERE old.id = c.id AND c.id = ANY($1) \
             RETURNING c.code, c.version, old.owner_enterprise_code AS old_owner, \
                       old.station_code AS old_station) \
         INSERT INTO revisions (record_kind, record_key, version, by_actor, reason, changes) \
         SELECT 'cylinders', code, version, $5, $6, \
                jsonb_build_object('owner_enterprise_code', jsonb_build_array(old_owner, $2::text), \
                                   'station_code', jsonb_build_array(old_station, $3::text)) \
         FROM moved",
    )
    .bind(&ids)
    .bind(to)
    .bind(station)
    .bind(at)
    .bind(by)
    .bind(&reason)
    .execute(&mut *tx)
    .await?;
    let codes: Vec<&str> = cylinders.iter().map(|c| c.1.as_str()).collect();
    let note = format!("cylinder transferred to {to} (transfer {id})");
    sqlx::query(
        "UPDATE alerts SET status = 'resolved', ack_by = coalesce(ack_by, $3), \
                ack_at = coalesce(ack_at, $4), ack_note = coalesce(ack_note, $5), \
                resolved_by = $3, resolved_at = $4, resolution_note = $5 \
         WHERE subject_type = 'cylinder' AND subject_id = ANY($1) AND status <> 'resolved' \
           AND enterprise_code = $2",
    )
    .bind(&codes)
    .bind(from)
    .bind(by)
    .bind(at)
    .bind(&note)
    .execute(&mut *tx)
    .await?;
    let mut listed_codes = codes_of(&mut tx, &[id]).await?;
    tx.commit().await?;
    Ok(row.with(listed_codes.remove(&id).unwrap_or_default()))
}

/// When the current owner's period of cylinder `code` began (`None`: since it was archived).
pub async fn owned_since(pool: &PgPool, code: &str) -> anyhow::Result<Option<DateTime<Utc>>> {
    let since: Option<Option<DateTime<Utc>>> =
        sqlx::query_scalar("SELECT owned_since FROM cylinders WHERE code = $1")
            .bind(code)
            .fetch_optional(pool)
            .await
            .context("reading a cylinder's owner period")?;
    Ok(since.flatten())
}
