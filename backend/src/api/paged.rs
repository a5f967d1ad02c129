//! The lists behind figures answer the same way: a page of JSON after a cursor, or the whole
//! list as CSV, streamed in pages while it is read (refused past `CSV_MAX` rows so that a
//! download stays bounded). Every CSV the server writes goes through `csv_line`, which
//! neutralises cells a spreadsheet would run as formulas, and runs under an `ExportSlot`: a
//! user has at most `exports_per_user` of them at once.

use super::QueryError;
use crate::access::User;
use crate::error::ApiError;
use actix_web::{web, HttpResponse};
use serde::Serialize;
use shared::cylinder::Page;
use shared::ErrorCode;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

/// The most rows one CSV list holds; a longer list must be narrowed.
pub const CSV_MAX: usize = 200_000;
/// Rows read per query while writing a CSV list.
const CSV_PAGE: i64 = 5_000;

/// How one list's rows are named, cut into CSV cells and continued after.
pub struct Listing<R, C> {
    /// What the rows are, for the message when a CSV list is too long ("alerts").
    pub what: &'static str,
    /// The CSV file's name.
    pub file: &'static str,
    /// The CSV header.
    pub columns: &'static [&'static str],
    /// A row's CSV cells, in the order of `columns`.
    pub cells: fn(&R) -> Vec<String>,
    /// The position after a row, as the reader takes it.
    pub after: fn(&R) -> C,
    /// The position after a row, as the cursor handed out with a page.
    pub cursor: fn(&R) -> String,
}

/// A page from `limit + 1` rows read: at most `limit` of them, and the cursor after the last
/// when the extra row showed that more follow.
pub fn trim_page<R>(
    mut rows: Vec<R>,
    limit: i64,
    cursor: impl Fn(&R) -> String,
) -> (Vec<R>, Option<String>) {
    let more = usize::try_from(limit).is_ok_and(|l| rows.len() > l);
    if more {
        rows.pop();
    }
    let next_cursor = more.then(|| rows.last().map(cursor)).flatten();
    (rows, next_cursor)
}

/// Whether the whole list is asked for as CSV (`format=csv`) rather than a page (`json`, the
/// default).
pub fn wants_csv(format: Option<&str>) -> Result<bool, QueryError> {
    match format {
        None | Some("json") => Ok(false),
        Some("csv") => Ok(true),
        Some(other) => Err(QueryError::Format(other.to_owned())),
    }
}

/// The first characters that make a spreadsheet read a cell as a formula (OWASP, "CSV
/// injection").
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell as it is safe to open in a spreadsheet: one that begins like a formula gets a
/// leading `'` (which spreadsheets show as text), and so does one that already looks
/// neutralised. The cylinder import takes one quote off again (`unneutralise`), so an export
/// imports as it was.
pub fn neutralise(cell: String) -> String {
    if cell.trim_start_matches('\'').starts_with(FORMULA_STARTS) {
        format!("'{cell}")
    } else {
        cell
    }
}

/// The inverse of `neutralise` for a cell read back from an export.
pub fn unneutralise(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.trim_start_matches('\'').starts_with(FORMULA_STARTS) => rest,
        _ => cell,
    }
}

/// One CSV line of neutralised cells.
pub fn csv_line(cells: impl IntoIterator<Item = String>) -> anyhow::Result<web::Bytes> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record(cells.into_iter().map(neutralise))
        .map_err(|e| anyhow::anyhow!("writing CSV: {e}"))?;
    writer
        .into_inner()
        .map(web::Bytes::from)
        .map_err(|e| anyhow::anyhow!("writing CSV: {e}"))
}

/// The CSV lists and exports running now, per user.
pub struct ExportSlots {
    per_user: usize,
    running: Arc<Mutex<HashMap<i64, usize>>>,
}

/// A running CSV list or export; the slot is given back when it is dropped (the body was
/// sent, or the client went away).
pub struct ExportSlot {
    user: i64,
    running: Arc<Mutex<HashMap<i64, usize>>>,
}

impl ExportSlots {
    /// At most `per_user` at once per user.
    pub fn new(per_user: usize) -> Self {
        Self {
            per_user,
            running: Arc::default(),
        }
    }

    /// A slot for `user`, or `429 rate_limited` when the user has `per_user` running.
    pub fn take(&self, user: &User) -> Result<ExportSlot, ApiError> {
        let mut running = self
            .running
            .lock()
            .map_err(|_| ApiError::Internal(anyhow::anyhow!("export slots poisoned")))?;
        let count = running.entry(user.id).or_insert(0);
        if *count >= self.per_user {
            return Err(ApiError::client(
                ErrorCode::RateLimited,
                format!(
                    "at most {} lists or exports at a time; retry when one has finished",
                    self.per_user
                ),
            ));
        }
        *count += 1;
        Ok(ExportSlot {
            user: user.id,
            running: Arc::clone(&self.running),
        })
    }
}

impl ExportSlots {
    /// A slot when the whole list is asked for as CSV (`wants_csv`), none for a page.
    pub fn for_csv(&self, user: &User, csv: bool) -> Result<Option<ExportSlot>, ApiError> {
        csv.then(|| self.take(user)).transpose()
    }
}

impl Drop for ExportSlot {
    fn drop(&mut self) {
        if let Ok(mut running) = self.running.lock() {
            if let Some(count) = running.get_mut(&self.user) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    running.remove(&self.user);
                }
            }
        }
    }
}

/// A CSV download streamed from `chunks` (the header line first), holding `slot` until it
/// ends.
pub fn csv_response<S>(file: &str, slot: ExportSlot, chunks: S) -> HttpResponse
where
    S: futures_util::Stream<Item = Result<web::Bytes, actix_web::Error>> + 'static,
{
    let body = futures_util::StreamExt::map(chunks, move |chunk| {
        let _held = &slot;
        chunk
    });
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "content-disposition",
            format!("attachment; filename=\"{file}\""),
        ))
        .streaming(body)
}

impl<R: 'static, C: 'static> Listing<R, C> {
    /// A page of at most `limit` rows after `after` (shown through `view`, a row it drops is
    /// not shown) with the cursor of the next page if there is one; or, with a CSV slot, every
    /// row as CSV. `read(after, n)` reads at most `n` rows after a position, in the list's
    /// order.
    pub async fn answer<V, F, Fut>(
        self,
        csv: Option<ExportSlot>,
        after: Option<C>,
        limit: i64,
        mut read: F,
        view: impl FnMut(R) -> Option<V>,
    ) -> Result<HttpResponse, ApiError>
    where
        V: Serialize,
        F: FnMut(Option<C>, i64) -> Fut + 'static,
        Fut: Future<Output = anyhow::Result<Vec<R>>> + 'static,
    {
        if let Some(slot) = csv {
            return self.csv(slot, read).await;
        }
        let rows = read(after, limit + 1).await?;
        let (rows, next_cursor) = trim_page(rows, limit, self.cursor);
        let items: Vec<V> = rows.into_iter().filter_map(view).collect();
        Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
    }

    /// The whole list as CSV, read and sent in pages of `CSV_PAGE`. The first page is read
    /// before answering, so that a failure there is an error answer; a failure later (or a
    /// list longer than `CSV_MAX`) ends the download abruptly, never as a file that looks
    /// whole.
    async fn csv<F, Fut>(self, slot: ExportSlot, mut read: F) -> Result<HttpResponse, ApiError>
    where
        F: FnMut(Option<C>, i64) -> Fut + 'static,
        Fut: Future<Output = anyhow::Result<Vec<R>>> + 'static,
    {
        let header = csv_line(self.columns.iter().map(|c| (*c).to_owned()))?;
        let first = read(None, CSV_PAGE).await?;
        let (what, file, cells, after) = (self.what, self.file, self.cells, self.after);
        let lines = move |page: &[R]| -> anyhow::Result<web::Bytes> {
            let mut out = Vec::new();
            for r in page {
                out.extend_from_slice(&csv_line(cells(r))?);
            }
            Ok(web::Bytes::from(out))
        };
        let first_lines = lines(&first)?;
        // The state between pages: rows written so far and where the next page starts
        // (`None` once the last page was sent).
        let next = move |page: &[R], written: usize| {
            let full = i64::try_from(page.len()).is_ok_and(|n| n == CSV_PAGE);
            page.last()
                .filter(|_| full)
                .map(|last| (written, after(last)))
        };
        let start = next(&first, first.len());
        let rest = futures_util::stream::unfold(start, move |position| {
            let pending = position.map(|(written, from)| (written, read(Some(from), CSV_PAGE)));
            async move {
                let (written, page) = pending?;
                let failed = |e: anyhow::Error| {
                    tracing::error!(error = %format!("{e:#}"), what, "CSV list failed mid-stream");
                    Some((
                        Err(actix_web::error::ErrorInternalServerError(
                            "CSV list failed",
                        )),
                        None,
                    ))
                };
                let page = match page.await {
                    Ok(page) => page,
                    Err(e) => return failed(e),
                };
                let written = written + page.len();
                if written > CSV_MAX {
                    return failed(anyhow::anyhow!(
                        "more than {CSV_MAX} {what}; the download was cut (narrow the list)"
                    ));
                }
                match lines(&page) {
                    Ok(bytes) => Some((Ok(bytes), next(&page, written))),
                    Err(e) => failed(e),
                }
            }
        });
        let head = futures_util::stream::iter([Ok(header), Ok(first_lines)]);
        Ok(csv_response(
            file,
            slot,
            futures_util::StreamExt::chain(head, rest),
        ))
    }
}

/// A CSV cell of an optional value: empty when absent.
pub fn opt<T: ToString>(value: Option<&T>) -> String {
    value.map(ToString::to_string).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised_and_come_back() {
        for cell in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            let safe = neutralise(cell.to_owned());
            assert_eq!(safe, format!("'{cell}"));
            assert_eq!(unneutralise(&safe), cell);
        }
        for cell in ["'=1", "''@x"] {
            let safe = neutralise(cell.to_owned());
            assert_eq!(safe, format!("'{cell}"));
            assert_eq!(unneutralise(&safe), cell);
        }
        for cell in ["", "431325", "'quoted", "a=b", "2026-01-01"] {
            assert_eq!(neutralise(cell.to_owned()), cell);
            assert_eq!(unneutralise(cell), cell);
        }
    }
}
