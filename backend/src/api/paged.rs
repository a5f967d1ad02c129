//! The lists behind figures answer the same way: a page of JSON after a cursor, or the whole
//! list as CSV (read in pages, refused past `CSV_MAX` rows so that a download stays bounded).

use super::QueryError;
use crate::error::ApiError;
use actix_web::HttpResponse;
use serde::Serialize;
use shared::cylinder::Page;
use shared::ErrorCode;
use std::future::Future;

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

/// Whether the whole list is asked for as CSV (`format=csv`) rather than a page (`json`, the
/// default).
pub fn wants_csv(format: Option<&str>) -> Result<bool, QueryError> {
    match format {
        None | Some("json") => Ok(false),
        Some("csv") => Ok(true),
        Some(other) => Err(QueryError::Format(other.to_owned())),
    }
}

impl<R, C> Listing<R, C> {
    /// A page of at most `limit` rows after `after` (shown through `view`, a row it drops is
    /// not shown) with the cursor of the next page if there is one; or, when `csv`, every row
    /// as CSV. `read(after, n)` reads at most `n` rows after a position, in the list's order.
    pub async fn answer<V, F, Fut>(
        &self,
        csv: bool,
        after: Option<C>,
        limit: i64,
        mut read: F,
        view: impl FnMut(R) -> Option<V>,
    ) -> Result<HttpResponse, ApiError>
    where
        V: Serialize,
        F: FnMut(Option<C>, i64) -> Fut,
        Fut: Future<Output = anyhow::Result<Vec<R>>>,
    {
        if csv {
            return self.csv(read).await;
        }
        let mut rows = read(after, limit + 1).await?;
        let more = usize::try_from(limit).is_ok_and(|l| rows.len() > l);
        if more {
            rows.pop();
        }
        let next_cursor = more.then(|| rows.last().map(self.cursor)).flatten();
        let items: Vec<V> = rows.into_iter().filter_map(view).collect();
        Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
    }

    /// The whole list as CSV, read in pages of `CSV_PAGE`.
    async fn csv<F, Fut>(&self, mut read: F) -> Result<HttpResponse, ApiError>
    where
        F: FnMut(Option<C>, i64) -> Fut,
        Fut: Future<Output = anyhow::Result<Vec<R>>>,
    {
        let csv_error = |e: csv::Error| ApiError::Internal(anyhow::anyhow!("writing CSV: {e}"));
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(self.columns).map_err(csv_error)?;
        let (mut after, mut written) = (None, 0usize);
        loop {
            let page = read(after, CSV_PAGE).await?;
            written += page.len();
            if written > CSV_MAX {
                return Err(ApiError::client(
                    ErrorCode::InvalidQuery,
                    format!(
                        "more than {CSV_MAX} {}; narrow the list (from/to, station_code, \
                         enterprise_code)",
                        self.what
                    ),
                ));
            }
            for r in &page {
                writer.write_record((self.cells)(r)).map_err(csv_error)?;
            }
            match page.last() {
                Some(last) if i64::try_from(page.len()).is_ok_and(|n| n == CSV_PAGE) => {
                    after = Some((self.after)(last));
                }
                _ => break,
            }
        }
        let body = writer
            .into_inner()
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("writing CSV: {e}")))?;
        Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                "content-disposition",
                format!("attachment; filename=\"{}\"", self.file),
            ))
            .body(body))
    }
}
