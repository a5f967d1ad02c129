//! The directories (issue 21 item 5): the registry's records as compact summaries, within a
//! scope, searched and filtered, by key after a cursor. Only the conditions asked for are
//! written into the statement, so that the planner sees the search it serves: a code's prefix
//! from the primary key (the database collates as C), a name's part from the
//! `directory_grams` GIN index (migration 0038).

use crate::access::Scope;
use anyhow::Context;
use shared::auth::RecordStatus;
use shared::directory::{
    DeviceSummary, EnterpriseSummary, StaffSummary, StationSummary, UserSummary, VehicleSummary,
};
use sqlx::postgres::{PgRow, Postgres};
use sqlx::{PgPool, QueryBuilder, Row};

/// What a directory is narrowed to besides its scope.
#[derive(Debug, Clone, Default)]
pub struct Search {
    /// A code's prefix, or a part of the name (the key's, where a record has no name).
    pub q: Option<String>,
    pub status: Option<RecordStatus>,
    /// Only records with a licence or certificate that expires within this many days from
    /// today in Beijing (already expired included).
    pub expiring_within_days: Option<i32>,
}

/// `text` as a LIKE pattern matching itself as a prefix.
fn prefix_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 1);
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// ` AND (<code> starts with q OR <name> contains q)`; without a name column, the key itself
/// may contain q.
fn push_q(b: &mut QueryBuilder<'_, Postgres>, q: Option<&str>, code: &str, name: Option<&str>) {
    let Some(q) = q else { return };
    b.push(format!(" AND ({code} LIKE "))
        .push_bind(prefix_pattern(q))
        .push(" ESCAPE '\\'");
    match name {
        Some(name) => {
            b.push(format!(
                " OR (directory_grams({name}) @> directory_query_grams("
            ))
            .push_bind(q.to_owned())
            .push(format!(") AND strpos(lower({name}), lower("))
            .push_bind(q.to_owned())
            .push(")) > 0))");
        }
        None => {
            b.push(format!(" OR strpos(lower({code}), lower("))
                .push_bind(q.to_owned())
                .push(")) > 0)");
        }
    }
}

/// ` AND <column> = status`.
fn push_status(b: &mut QueryBuilder<'_, Postgres>, search: &Search, column: &str) {
    if let Some(status) = search.status {
        b.push(format!(" AND {column} = ")).push_bind(status.name());
    }
}

/// ` AND (one of the dates is missing or expires within the days)`.
fn push_expiring(b: &mut QueryBuilder<'_, Postgres>, search: &Search, dates: &[&str]) {
    let Some(days) = search.expiring_within_days else {
        return;
    };
    b.push(" AND (");
    for (i, date) in dates.iter().enumerate() {
        if i > 0 {
            b.push(" OR ");
        }
        // No date at all counts as expired, as R01 and R02 judge it.
        b.push(format!(
            "{date} IS NULL OR {date} <= (now() AT TIME ZONE 'Asia/Shanghai')::date + "
        ))
        .push_bind(days);
    }
    b.push(")");
}

/// ` AND` the enterprise `e` is within the scope.
fn push_scope(b: &mut QueryBuilder<'_, Postgres>, scope: &Scope) {
    if let Some(enterprise) = scope.enterprise() {
        b.push(" AND e.code = ").push_bind(enterprise.to_owned());
    }
    if let Some(district) = scope.district() {
        b.push(" AND e.district_code = ")
            .push_bind(district.to_owned());
    }
}

/// ` AND <key> > after ORDER BY <key> LIMIT n`.
fn push_page(b: &mut QueryBuilder<'_, Postgres>, key: &str, after: Option<&str>, limit: i64) {
    if let Some(after) = after {
        b.push(format!(" AND {key} > ")).push_bind(after.to_owned());
    }
    b.push(format!(" ORDER BY {key} LIMIT ")).push_bind(limit);
}

async fn fetch(
    mut b: QueryBuilder<'_, Postgres>,
    pool: &PgPool,
    what: &str,
) -> anyhow::Result<Vec<PgRow>> {
    b.build()
        .fetch_all(pool)
        .await
        .with_context(|| format!("listing {what}"))
}

/// `GET /api/v1/enterprises`.
pub async fn enterprises(
    pool: &PgPool,
    scope: &Scope,
    search: &Search,
    after: Option<&str>,
    limit: i64,
) -> anyhow::Result<Vec<EnterpriseSummary>> {
    let mut b = QueryBuilder::new(
        "SELECT e.code, e.name, e.district_code, e.status, e.version, e.filling_licence_no, \
                e.filling_licence_expires, e.gas_licence_no, e.gas_licence_expires \
         FROM enterprises e WHERE true",
    );
    push_scope(&mut b, scope);
    push_q(&mut b, search.q.as_deref(), "e.code", Some("e.name"));
    push_status(&mut b, search, "e.status");
    push_expiring(
        &mut b,
        search,
        &["e.filling_licence_expires", "e.gas_licence_expires"],
    );
    push_page(&mut b, "e.code", after, limit);
    fetch(b, pool, "enterprises")
        .await?
        .iter()
        .map(|r| {
            Ok(EnterpriseSummary {
                code: r.try_get("code")?,
                name: r.try_get("name")?,
                district_code: r.try_get("district_code")?,
                status: r.try_get("status")?,
                version: r.try_get("version")?,
                filling_licence_no: r.try_get("filling_licence_no")?,
                filling_licence_expires: r.try_get("filling_licence_expires")?,
                gas_licence_no: r.try_get("gas_licence_no")?,
                gas_licence_expires: r.try_get("gas_licence_expires")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .context("reading enterprises")
}

/// `GET /api/v1/stations`.
pub async fn stations(
    pool: &PgPool,
    scope: &Scope,
    search: &Search,
    after: Option<&str>,
    limit: i64,
) -> anyhow::Result<Vec<StationSummary>> {
    let mut b = QueryBuilder::new(
        "SELECT s.code, s.name, s.enterprise_code, s.kind, s.district_code, s.status, s.version \
         FROM stations s JOIN enterprises e ON e.code = s.enterprise_code WHERE true",
    );
    push_scope(&mut b, scope);
    push_q(&mut b, search.q.as_deref(), "s.code", Some("s.name"));
    push_status(&mut b, search, "s.status");
    push_page(&mut b, "s.code", after, limit);
    fetch(b, pool, "stations")
        .await?
        .iter()
        .map(|r| {
            Ok(StationSummary {
                code: r.try_get("code")?,
                name: r.try_get("name")?,
                enterprise_code: r.try_get("enterprise_code")?,
                kind: r.try_get("kind")?,
                district_code: r.try_get("district_code")?,
                status: r.try_get("status")?,
                version: r.try_get("version")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .context("reading stations")
}

/// `GET /api/v1/staff`, by enterprise and staff number (a staff number is unique within its
/// enterprise only): `after` is the last row's `(enterprise_code, staff_no)`.
pub async fn staff(
    pool: &PgPool,
    scope: &Scope,
    search: &Search,
    after: Option<(&str, &str)>,
    limit: i64,
) -> anyhow::Result<Vec<StaffSummary>> {
    let mut b = QueryBuilder::new(
        "SELECT s.staff_no, s.name, s.enterprise_code, s.role, e.district_code, s.status, \
                s.version, s.certificate_no, s.certificate_expires \
         FROM staff s JOIN enterprises e ON e.code = s.enterprise_code WHERE true",
    );
    push_scope(&mut b, scope);
    push_q(&mut b, search.q.as_deref(), "s.staff_no", Some("s.name"));
    push_status(&mut b, search, "s.status");
    push_expiring(&mut b, search, &["s.certificate_expires"]);
    if let Some((enterprise, staff_no)) = after {
        b.push(" AND (s.enterprise_code, s.staff_no) > (")
            .push_bind(enterprise.to_owned())
            .push(", ")
            .push_bind(staff_no.to_owned())
            .push(")");
    }
    b.push(" ORDER BY s.enterprise_code, s.staff_no LIMIT ")
        .push_bind(limit);
    fetch(b, pool, "staff")
        .await?
        .iter()
        .map(|r| {
            Ok(StaffSummary {
                staff_no: r.try_get("staff_no")?,
                name: r.try_get("name")?,
                enterprise_code: r.try_get("enterprise_code")?,
                role: r.try_get("role")?,
                district_code: r.try_get("district_code")?,
                status: r.try_get("status")?,
                version: r.try_get("version")?,
                certificate_no: r.try_get("certificate_no")?,
                certificate_expires: r.try_get("certificate_expires")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .context("reading staff")
}

/// `GET /api/v1/vehicles`.
pub async fn vehicles(
    pool: &PgPool,
    scope: &Scope,
    search: &Search,
    after: Option<&str>,
    limit: i64,
) -> anyhow::Result<Vec<VehicleSummary>> {
    let mut b = QueryBuilder::new(
        "SELECT v.plate, v.enterprise_code, e.district_code, v.gps_device_id, \
                v.reader_device_id, v.status, v.version \
         FROM vehicles v JOIN enterprises e ON e.code = v.enterprise_code WHERE true",
    );
    push_scope(&mut b, scope);
    push_q(&mut b, search.q.as_deref(), "v.plate", None);
    push_status(&mut b, search, "v.status");
    push_page(&mut b, "v.plate", after, limit);
    fetch(b, pool, "vehicles")
        .await?
        .iter()
        .map(|r| {
            Ok(VehicleSummary {
                plate: r.try_get("plate")?,
                enterprise_code: r.try_get("enterprise_code")?,
                district_code: r.try_get("district_code")?,
                gps_device_id: r.try_get("gps_device_id")?,
                reader_device_id: r.try_get("reader_device_id")?,
                status: r.try_get("status")?,
                version: r.try_get("version")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .context("reading vehicles")
}

/// `GET /api/v1/devices`: never the key's hash (the statement does not read it).
pub async fn devices(
    pool: &PgPool,
    scope: &Scope,
    search: &Search,
    after: Option<&str>,
    limit: i64,
) -> anyhow::Result<Vec<DeviceSummary>> {
    let mut b = QueryBuilder::new(
        "SELECT d.device_id, d.kind, d.enterprise_code, e.district_code, d.vehicle_plate, \
                d.station_code, d.status, d.version, d.last_seen_at \
         FROM devices d JOIN enterprises e ON e.code = d.enterprise_code WHERE true",
    );
    push_scope(&mut b, scope);
    push_q(&mut b, search.q.as_deref(), "d.device_id", None);
    push_status(&mut b, search, "d.status");
    push_page(&mut b, "d.device_id", after, limit);
    fetch(b, pool, "devices")
        .await?
        .iter()
        .map(|r| {
            Ok(DeviceSummary {
                device_id: r.try_get("device_id")?,
                kind: r.try_get("kind")?,
                enterprise_code: r.try_get("enterprise_code")?,
                district_code: r.try_get("district_code")?,
                vehicle_plate: r.try_get("vehicle_plate")?,
                station_code: r.try_get("station_code")?,
                status: r.try_get("status")?,
                version: r.try_get("version")?,
                last_seen_at: r.try_get("last_seen_at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .context("reading devices")
}

/// `GET /api/v1/users`: never the password's hash (the statement does not read it). A
/// district's users are its regulators and its enterprises' users.
pub async fn users(
    pool: &PgPool,
    scope: &Scope,
    search: &Search,
    after: Option<&str>,
    limit: i64,
) -> anyhow::Result<Vec<UserSummary>> {
    let mut b = QueryBuilder::new(
        "SELECT u.username, u.role, u.enterprise_code, \
                coalesce(u.district_code, e.district_code) AS district_code, u.status, \
                u.version, u.created_at \
         FROM users u LEFT JOIN enterprises e ON e.code = u.enterprise_code WHERE true",
    );
    if let Some(enterprise) = scope.enterprise() {
        b.push(" AND u.enterprise_code = ")
            .push_bind(enterprise.to_owned());
    }
    if let Some(district) = scope.district() {
        b.push(" AND coalesce(u.district_code, e.district_code) = ")
            .push_bind(district.to_owned());
    }
    push_q(&mut b, search.q.as_deref(), "u.username", None);
    push_status(&mut b, search, "u.status");
    push_page(&mut b, "u.username", after, limit);
    fetch(b, pool, "users")
        .await?
        .iter()
        .map(|r| {
            Ok(UserSummary {
                username: r.try_get("username")?,
                role: r.try_get("role")?,
                enterprise_code: r.try_get("enterprise_code")?,
                district_code: r.try_get("district_code")?,
                status: r.try_get("status")?,
                version: r.try_get("version")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .context("reading users")
}

/// `GET /api/v1/customers`: the customer accounts within the scope (the enterprise's district),
/// of one kind if asked, by code.
pub async fn customers(
    pool: &PgPool,
    scope: &Scope,
    kind: Option<&str>,
    search: &Search,
    after: Option<&str>,
    limit: i64,
) -> anyhow::Result<Vec<shared::stats::CustomerItem>> {
    let mut b = QueryBuilder::new(
        "SELECT cu.code, cu.enterprise_code, cu.name, cu.kind, cu.phone, cu.address, \
                cu.district_code, cu.created_at \
         FROM customers cu JOIN enterprises e ON e.code = cu.enterprise_code WHERE true",
    );
    push_scope(&mut b, scope);
    if let Some(kind) = kind {
        b.push(" AND cu.kind = ").push_bind(kind.to_owned());
    }
    push_q(&mut b, search.q.as_deref(), "cu.code", Some("cu.name"));
    push_status(&mut b, search, "cu.status");
    push_page(&mut b, "cu.code", after, limit);
    fetch(b, pool, "customers")
        .await?
        .iter()
        .map(|r| {
            Ok(shared::stats::CustomerItem {
                code: r.try_get("code")?,
                enterprise_code: r.try_get("enterprise_code")?,
                name: r.try_get("name")?,
                kind: r.try_get("kind")?,
                phone: r.try_get("phone")?,
                address: r.try_get("address")?,
                district_code: r.try_get("district_code")?,
                opened_at: r.try_get("created_at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .context("reading customers")
}

/// The status of each enterprise named (one unknown is absent).
pub async fn enterprise_statuses(
    pool: &PgPool,
    codes: &[String],
) -> anyhow::Result<std::collections::HashMap<String, RecordStatus>> {
    let rows: Vec<(String, RecordStatus)> =
        sqlx::query_as("SELECT code, status FROM enterprises WHERE code = ANY($1)")
            .bind(codes)
            .fetch_all(pool)
            .await
            .context("reading enterprises' status")?;
    Ok(rows.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_pattern_matches_only_itself() {
        assert_eq!(prefix_pattern("C1"), "C1%");
        assert_eq!(prefix_pattern("a_b%c\\"), "a\\_b\\%c\\\\%");
    }
}
