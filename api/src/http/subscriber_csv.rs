//! A page's subscribers as CSV: `GET /api/pages/{id}/subscribers.csv` streams the export a
//! hundred subscribers at a time (memory stays flat however large the page), and
//! `POST /api/pages/{id}/subscribers/import` reads a CSV body as it arrives (one row in memory
//! at a time, stopping at the first refusal) and answers a per-row report. Both authenticate
//! like the API; the import does so before reading its body.

use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use std::collections::HashMap;

use actix_web::error::PayloadError;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use futures::StreamExt as _;
use refhub_domain::audience::{
    ExportLayout, ImportLine, ImportReport, MAX_IMPORT_ROW_BYTES, SubscriberFilter,
    SubscriberTransferService, formula_guarded,
};
use refhub_domain::identity::Principal;
use refhub_domain::ids::PageId;
use refhub_domain::pagination::PageRequest;
use refhub_domain::{DomainError, DomainResult};
use refhub_graphql::Services;
use serde_json::json;
use uuid::Uuid;

use super::bearer::{require_principal, require_principal_or_link};
use super::csv_records::{CsvError, CsvRecord, CsvRecords};
use super::error::HttpError;

/// Largest import body accepted: ample for the row limit.
pub const MAX_IMPORT_BYTES: usize = 32 * 1024 * 1024;

/// Subscribers read per round of the export.
const EXPORT_BATCH: u32 = 100;

fn page_id(raw: &str) -> DomainResult<PageId> {
    raw.parse()
        .map_err(|_| DomainError::validation("pageId", "is not a valid ID"))
}

/// One CSV record, quoted where needed.
fn record(cells: &[String]) -> DomainResult<Bytes> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record(cells.iter().map(|c| formula_guarded(c).into_owned()))
        .map_err(DomainError::internal)?;
    writer
        .into_inner()
        .map(Bytes::from)
        .map_err(|err| DomainError::internal(err.into_error()))
}

struct Export {
    services: Services,
    principal: Principal,
    page_id: PageId,
    layout: ExportLayout,
    after: Option<Uuid>,
    header: Option<Bytes>,
    done: bool,
}

impl Export {
    /// The next chunk of the file: the header, then a batch of rows, until none are left.
    async fn next_chunk(&mut self) -> DomainResult<Option<Bytes>> {
        if let Some(header) = self.header.take() {
            return Ok(Some(header));
        }
        if self.done {
            return Ok(None);
        }
        let subscribers = &self.services.subscribers;
        let page = subscribers
            .list(
                &self.principal,
                self.page_id,
                &SubscriberFilter::default(),
                PageRequest {
                    after: self.after,
                    first: EXPORT_BATCH,
                },
            )
            .await?;
        self.done = !page.has_next_page;
        self.after = page.items.last().map(|s| s.id.0);
        if page.items.is_empty() {
            return Ok(None);
        }
        let ids: Vec<_> = page.items.iter().map(|s| s.id).collect();
        let values = subscribers.field_values(&self.principal, &ids).await?;
        let tags = subscribers.tags(&self.principal, &ids).await?;
        // Grouped once per batch, not searched once per subscriber.
        let mut values_of: HashMap<_, Vec<_>> = HashMap::new();
        for (id, value, _field) in values {
            values_of.entry(id).or_default().push(value);
        }
        let mut tags_of: HashMap<_, Vec<_>> = HashMap::new();
        for (id, tag) in tags {
            tags_of.entry(id).or_default().push(tag.id);
        }
        let mut chunk = Vec::new();
        for subscriber in &page.items {
            let row = self.layout.row(
                subscriber,
                values_of.get(&subscriber.id).map_or(&[][..], Vec::as_slice),
                tags_of.get(&subscriber.id).map_or(&[][..], Vec::as_slice),
            );
            chunk.extend_from_slice(&record(&row)?);
        }
        Ok(Some(Bytes::from(chunk)))
    }
}

/// Streams a page's subscribers as CSV.
pub async fn export(
    request: HttpRequest,
    id: web::Path<String>,
    services: web::Data<Services>,
    transfer: web::Data<SubscriberTransferService>,
) -> Result<HttpResponse, HttpError> {
    let principal = require_principal_or_link(&services.auth, &request).await?;
    let page_id = page_id(&id)?;
    let layout = transfer.export_layout(&principal, page_id).await?;
    let header = record(&layout.header())?;
    let export = Export {
        services: services.get_ref().clone(),
        principal,
        page_id,
        layout,
        after: None,
        header: Some(header),
        done: false,
    };
    let body = futures::stream::unfold(export, |mut export| async move {
        match export.next_chunk().await {
            Ok(Some(chunk)) => Some((Ok::<_, actix_web::Error>(chunk), export)),
            Ok(None) => None,
            Err(err) => {
                // The status line is gone already: the client sees a cut-short file.
                tracing::error!(error = ?err, "the subscriber export stopped");
                export.done = true;
                Some((
                    Err(actix_web::error::ErrorInternalServerError(
                        "the export stopped",
                    )),
                    export,
                ))
            }
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(format!(
                "subscribers-{page_id}.csv"
            ))],
        })
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(body))
}

fn report_json(report: &ImportReport) -> serde_json::Value {
    json!({
        "created": report.created,
        "updated": report.updated,
        "rejected": report.rejected.iter().map(|row| json!({
            "line": row.line,
            "psid": row.psid,
            "problems": row.problems.iter().map(|p| json!({
                "column": p.column,
                "message": p.message,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

/// Imports a CSV body into a page, reading it as it arrives.
pub async fn import(
    request: HttpRequest,
    id: web::Path<String>,
    mut body: web::Payload,
    services: web::Data<Services>,
    transfer: web::Data<SubscriberTransferService>,
) -> Result<HttpResponse, actix_web::Error> {
    // Who asks, and whether they may import into this page, is settled before a byte of the
    // body is read: a stranger's or a viewer's upload is answered unread.
    let principal = require_principal(&services.auth, &request)
        .await
        .map_err(HttpError)?;
    let page_id = page_id(&id).map_err(HttpError)?;
    let mut import = transfer
        .start_import(&principal, page_id)
        .await
        .map_err(HttpError)?;
    if declared_length(&request).is_some_and(|length| length > MAX_IMPORT_BYTES) {
        return Err(PayloadError::Overflow.into());
    }
    let mut records = CsvRecords::new(MAX_IMPORT_ROW_BYTES);
    let mut each = |record: CsvRecord| {
        import.add(ImportLine {
            line: record.line,
            cells: record.cells,
        })
    };
    // A refused row (the one past the row limit, one too long) answers at once: the rest of
    // the body is never read.
    let mut received = 0;
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        received += chunk.len();
        if received > MAX_IMPORT_BYTES {
            return Err(PayloadError::Overflow.into());
        }
        records.feed(&chunk, &mut each).map_err(HttpError)?;
    }
    records.finish(&mut each).map_err(HttpError)?;
    let report = transfer.finish_import(import).await.map_err(HttpError)?;
    Ok(HttpResponse::Ok().json(report_json(&report)))
}

/// The body's declared `Content-Length`, if any.
fn declared_length(request: &HttpRequest) -> Option<usize> {
    request
        .headers()
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

impl From<CsvError> for DomainError {
    fn from(err: CsvError) -> Self {
        DomainError::validation("file", err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_quoted_and_guarded() {
        let line = record(&["a,b".to_owned(), "=1+1".to_owned(), "ok".to_owned()]).unwrap();
        assert_eq!(&line[..], b"\"a,b\",'=1+1,ok\n");
    }
}
