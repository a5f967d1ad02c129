//! Cylinder lifecycle (issue 21 item 4): tag replacements. A replaced tag is void for ever
//! (`tag_replacements.old_tag_id`, guarded by a trigger on `cylinders`); the replacement is
//! a row of the cylinder's history and a revision of its archive.

use super::revisions::{self, NewRevision};
use super::WriteError;
use crate::access::Scope;
use anyhow::Context;
use chrono::{DateTime, Utc};
use shared::ids::TagId;
use shared::{ErrorCode, ErrorDetail};
use sqlx::PgPool;
use std::collections::HashMap;

/// Void tags among `tags`, each with the code of the cylinder it was replaced on (named only
/// when that cylinder is within `scope`).
pub async fn void_tags(
    pool: &PgPool,
    tags: &[&str],
    scope: &Scope,
) -> anyhow::Result<HashMap<String, Option<String>>> {
    let rows: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT r.old_tag_id, c.code, c.owner_enterprise_code, e.district_code \
         FROM tag_replacements r JOIN cylinders c ON c.id = r.cylinder_id \
         LEFT JOIN enterprises e ON e.code = c.owner_enterprise_code \
         WHERE r.old_tag_id = ANY($1)",
    )
    .bind(tags)
    .fetch_all(pool)
    .await
    .context("checking void tags")?;
    Ok(rows
        .into_iter()
        .map(|(tag, code, owner, district)| {
            let visible = scope.admits(Some(&owner), district.as_deref());
            (tag, visible.then_some(code))
        })
        .collect())
}

/// A replacement done.
#[derive(Debug)]
pub struct Replaced {
    pub old_tag_id: TagId,
    pub version: i64,
    pub at: DateTime<Utc>,
}

fn refused(code: ErrorCode, field: Option<&str>, message: String) -> WriteError {
    let detail = ErrorDetail::new(code, message);
    WriteError::Invalid(match field {
        Some(field) => detail.with_field(field),
        None => detail,
    })
}

/// Replaces the tag of cylinder `cylinder_id` (the caller found it within `scope`) by
/// `new_tag`, in one transaction: the archive's tag and version, the void old tag (its
/// history row) and a revision. A scrapped cylinder is refused; so is a new tag that is void
/// or bound to any cylinder.
pub async fn replace_tag(
    pool: &PgPool,
    cylinder_id: i64,
    new_tag: &TagId,
    reason: &str,
    by: &str,
    scope: &Scope,
) -> Result<Replaced, WriteError> {
    let mut tx = pool.begin().await?;
    let (code, old_tag, scrapped): (String, TagId, bool) = sqlx::query_as(
        "SELECT c.code, c.tag_id, coalesce(s.custody = 'scrapped', false) \
         FROM cylinders c LEFT JOIN cylinder_state s ON s.cylinder_id = c.id \
         WHERE c.id = $1 FOR UPDATE OF c",
    )
    .bind(cylinder_id)
    .fetch_one(&mut *tx)
    .await?;
    if scrapped {
        return Err(refused(
            ErrorCode::InvalidTransition,
            None,
            format!("cylinder {code} is scrapped; its tag is not replaced"),
        ));
    }
    let tag = new_tag.as_str();
    if old_tag == *new_tag {
        return Err(refused(
            ErrorCode::InvalidField,
            Some("tag_id"),
            format!("tag {tag} is already the tag of cylinder {code}"),
        ));
    }
    if let Some(holder) = void_tags(pool, &[tag], scope).await?.remove(tag) {
        let on = holder
            .map(|h| format!(" of cylinder {h}"))
            .unwrap_or_default();
        return Err(refused(
            ErrorCode::TagVoid,
            Some("tag_id"),
            format!("tag {tag} was replaced{on} and is void for ever"),
        ));
    }
    let holder: Option<(String, bool, String, Option<String>)> = sqlx::query_as(
        "SELECT c.code, coalesce(s.custody = 'scrapped', false), c.owner_enterprise_code, \
         e.district_code FROM cylinders c LEFT JOIN cylinder_state s ON s.cylinder_id = c.id \
         LEFT JOIN enterprises e ON e.code = c.owner_enterprise_code WHERE c.tag_id = $1",
    )
    .bind(tag)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some((holder, scrapped, owner, district)) = holder {
        let named = if scope.admits(Some(&owner), district.as_deref()) {
            format!("cylinder {holder}")
        } else {
            "another cylinder".to_owned()
        };
        return Err(if scrapped {
            refused(
                ErrorCode::TagVoid,
                Some("tag_id"),
                format!("tag {tag} belonged to scrapped {named} and is void for ever"),
            )
        } else {
            refused(
                ErrorCode::AlreadyExists,
                Some("tag_id"),
                format!("tag {tag} is bound to {named}"),
            )
        });
    }
    let version: i64 = sqlx::query_scalar(
        "UPDATE cylinders SET tag_id = $2, version = version + 1 WHERE id = $1 RETURNING version",
    )
    .bind(cylinder_id)
    .bind(tag)
    .fetch_one(&mut *tx)
    .await?;
    let at: DateTime<Utc> = sqlx::query_scalar(
        "INSERT INTO tag_replacements (cylinder_id, old_tag_id, new_tag_id, reason, replaced_by) \
         VALUES ($1, $2, $3, $4, $5) RETURNING replaced_at",
    )
    .bind(cylinder_id)
    .bind(old_tag.as_str())
    .bind(tag)
    .bind(reason)
    .bind(by)
    .fetch_one(&mut *tx)
    .await?;
    let changes = shared::revision::changes(
        &serde_json::json!({"tag_id": old_tag}),
        &serde_json::json!({"tag_id": tag}),
    );
    revisions::record(
        &mut tx,
        &NewRevision {
            kind: "cylinders",
            key: &code,
            version,
            by,
            reason: Some(reason),
            changes: &changes,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Replaced {
        old_tag_id: old_tag,
        version,
        at,
    })
}
