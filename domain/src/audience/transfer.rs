//! Subscribers in and out as tables: the columns of an export, and an import checked row by
//! row as its file arrives, whose good rows are applied together and whose bad rows are
//! reported with why.
//!
//! An export can be imported again as it is: its read-only columns are recognised and skipped.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::audience::ports::SubscriberRepository;
use crate::audience::subscriber::{FieldValueRecord, Subscriber};
use crate::catalogue::{CustomField, CustomFieldRepository, PageRepository, Tag, TagRepository};
use crate::clock::Clock;
use crate::error::{DomainError, DomainResult};
use crate::identity::{Principal, Role};
use crate::ids::{CustomFieldId, PageId, TagId, TenantId};
use crate::pagination::PageRequest;
use crate::text;
use crate::webhooks::Sender;

/// Most rows one import may hold (rows of blank cells are skipped, not counted).
pub const MAX_IMPORT_ROWS: usize = 50_000;
/// Longest one row of an import may be, in bytes: ample for every field at its longest, and a
/// bound on what one row can cost to read.
pub const MAX_IMPORT_ROW_BYTES: usize = 1024 * 1024;
/// Most problems reported for one row; a row with more says how many more.
pub const MAX_PROBLEMS_PER_ROW: usize = 10;
/// Longest a rejected row's PSID is echoed back, in characters.
const MAX_ECHOED_PSID_CHARS: usize = 64;
/// What separates tag names in the `tags` column.
pub const TAG_SEPARATOR: char = ';';

/// The columns every export starts with (all but `psid` and `tags` are read-only on import).
pub const FIXED_COLUMNS: [&str; 8] = [
    "psid",
    "user_ref",
    "name",
    "first_seen_at",
    "last_interaction_at",
    "source_ref",
    "entry_count",
    "tags",
];

/// One row of a file, as it arrives.
#[derive(Debug, Clone)]
pub struct ImportLine {
    /// Its line in the file (the header is line 1).
    pub line: u64,
    /// Its cells, in header order.
    pub cells: Vec<String>,
}

/// One row, checked, ready to apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    /// The person.
    pub psid: String,
    /// Values to set (canonical text); empty cells are left out (nothing changes).
    pub values: Vec<(CustomFieldId, String)>,
    /// Tags to add.
    pub tag_ids: Vec<TagId>,
}

/// What was wrong with one cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellProblem {
    /// The column.
    pub column: String,
    /// Why.
    pub message: String,
}

/// A row that was not imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedRow {
    /// Its line in the file.
    pub line: u64,
    /// Its PSID as written.
    pub psid: String,
    /// Everything wrong with it.
    pub problems: Vec<CellProblem>,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImportReport {
    /// Subscribers created.
    pub created: u64,
    /// Known subscribers changed.
    pub updated: u64,
    /// Rows not imported, and why.
    pub rejected: Vec<RejectedRow>,
}

/// How the good rows were applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportApplied {
    /// Subscribers created.
    pub created: u64,
    /// Known subscribers changed.
    pub updated: u64,
}

enum Column {
    Psid,
    Tags,
    Field(CustomField),
    ReadOnly,
}

/// Imports and exports a page's subscribers.
pub struct SubscriberTransferService {
    subscribers: Arc<dyn SubscriberRepository>,
    pages: Arc<dyn PageRepository>,
    fields: Arc<dyn CustomFieldRepository>,
    tags: Arc<dyn TagRepository>,
    clock: Arc<dyn Clock>,
}

/// The export's layout: its custom field columns and the tenant's tag names.
pub struct ExportLayout {
    /// The live custom fields, by number.
    pub fields: Vec<CustomField>,
    tag_names: HashMap<TagId, String>,
}

impl ExportLayout {
    /// The header row.
    pub fn header(&self) -> Vec<String> {
        FIXED_COLUMNS
            .iter()
            .map(|c| (*c).to_owned())
            .chain(self.fields.iter().map(|f| f.name.clone()))
            .collect()
    }

    /// One subscriber's row.
    pub fn row(
        &self,
        subscriber: &Subscriber,
        values: &[FieldValueRecord],
        tag_ids: &[TagId],
    ) -> Vec<String> {
        let (psid, user_ref) = match &subscriber.sender {
            Sender::Psid(psid) => (psid.clone(), String::new()),
            Sender::UserRef(user_ref) => (String::new(), user_ref.clone()),
        };
        let time = |at: Option<DateTime<Utc>>| {
            at.map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, true))
                .unwrap_or_default()
        };
        let mut tags: Vec<&str> = tag_ids
            .iter()
            .filter_map(|id| self.tag_names.get(id).map(String::as_str))
            .collect();
        tags.sort_unstable();
        let mut row = vec![
            psid,
            user_ref,
            subscriber.name.clone().unwrap_or_default(),
            time(Some(subscriber.first_seen_at)),
            time(subscriber.last_interaction_at),
            subscriber.source_ref.clone().unwrap_or_default(),
            subscriber.entry_count.to_string(),
            tags.join(&TAG_SEPARATOR.to_string()),
        ];
        row.extend(self.fields.iter().map(|field| {
            values
                .iter()
                .find(|v| v.field_id == field.id)
                .map(|v| v.value.clone())
                .unwrap_or_default()
        }));
        row
    }
}

impl SubscriberTransferService {
    /// Builds the service.
    pub fn new(
        subscribers: Arc<dyn SubscriberRepository>,
        pages: Arc<dyn PageRepository>,
        fields: Arc<dyn CustomFieldRepository>,
        tags: Arc<dyn TagRepository>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            subscribers,
            pages,
            fields,
            tags,
            clock,
        }
    }

    /// The layout of a page's export (members may export).
    pub async fn export_layout(
        &self,
        principal: &Principal,
        page_id: PageId,
    ) -> DomainResult<ExportLayout> {
        let access = principal.require_role(Role::Viewer)?;
        self.page_in(access.tenant_id, page_id).await?;
        let mut fields = self.all_fields(access.tenant_id).await?;
        fields.retain(|f| !f.is_archived());
        fields.sort_by_key(|f| f.number);
        let tag_names = self
            .all_tags(access.tenant_id)
            .await?
            .into_iter()
            .map(|t| (t.id, t.name))
            .collect();
        Ok(ExportLayout { fields, tag_names })
    }

    /// Starts an import into a page (editors), before any of its file is read: who may import
    /// where is settled first, and the tenant's fields and tags are read once for every row.
    /// The file's lines then go to [`Import::add`], and the import to [`Self::finish_import`].
    pub async fn start_import(
        &self,
        principal: &Principal,
        page_id: PageId,
    ) -> DomainResult<Import> {
        let access = principal.require_role(Role::Editor)?;
        let tenant_id = access.tenant_id;
        self.page_in(tenant_id, page_id).await?;
        let fields = self.all_fields(tenant_id).await?;
        let tags_by_name = self
            .all_tags(tenant_id)
            .await?
            .into_iter()
            .map(|t| (t.name.to_lowercase(), t.id))
            .collect();
        Ok(Import {
            tenant_id,
            page_id,
            fields,
            tags_by_name,
            header: None,
            rows: 0,
            good: Vec::new(),
            seen: HashMap::new(),
            report: ImportReport::default(),
        })
    }

    /// Applies an import's good rows in one transaction (all of a row or nothing of it) and
    /// reports them with the rows refused.
    pub async fn finish_import(&self, import: Import) -> DomainResult<ImportReport> {
        let Import {
            tenant_id,
            page_id,
            fields,
            header,
            good,
            mut report,
            ..
        } = import;
        if header.is_none() {
            // An empty file: refused as a header without a psid column.
            columns(&fields, &[])?;
        }
        if !good.is_empty() {
            let applied = self
                .subscribers
                .import(tenant_id, page_id, &good, self.clock.now())
                .await?;
            report.created = applied.created;
            report.updated = applied.updated;
        }
        Ok(report)
    }

    async fn page_in(&self, tenant_id: TenantId, page_id: PageId) -> DomainResult<()> {
        self.pages
            .find(tenant_id, page_id)
            .await?
            .map(|_| ())
            .ok_or_else(|| DomainError::not_found_in("page", "pageId"))
    }

    async fn all_fields(&self, tenant_id: TenantId) -> DomainResult<Vec<CustomField>> {
        let mut fields = Vec::new();
        let mut after = None;
        loop {
            let page = self
                .fields
                .list(tenant_id, true, PageRequest { after, first: 100 })
                .await?;
            after = page.items.last().map(|f| f.id.0);
            let more = page.has_next_page;
            fields.extend(page.items);
            if !more {
                return Ok(fields);
            }
        }
    }

    async fn all_tags(&self, tenant_id: TenantId) -> DomainResult<Vec<Tag>> {
        let mut tags = Vec::new();
        let mut after = None;
        loop {
            let page = self
                .tags
                .list(tenant_id, PageRequest { after, first: 100 })
                .await?;
            after = page.items.last().map(|t| t.id.0);
            let more = page.has_next_page;
            tags.extend(page.items);
            if !more {
                return Ok(tags);
            }
        }
    }
}

/// An import under way. Its file's first line is the header; each row after it is checked as
/// it arrives and only what a good row changes is kept, so memory follows the rows (at most
/// [`MAX_IMPORT_ROWS`]), not the file.
pub struct Import {
    tenant_id: TenantId,
    page_id: PageId,
    fields: Vec<CustomField>,
    tags_by_name: HashMap<String, TagId>,
    header: Option<Header>,
    rows: usize,
    good: Vec<ImportRow>,
    seen: HashMap<String, u64>,
    report: ImportReport,
}

/// A file's column names and what each names.
struct Header {
    names: Vec<String>,
    columns: Vec<Column>,
}

impl Import {
    /// Takes the file's next line. The first is the header: an unknown or repeated column, or
    /// no `psid` column, refuses the whole file. After it, a row of blank cells is skipped
    /// (spreadsheets leave them), and the row after the [`MAX_IMPORT_ROWS`]th refuses the
    /// whole file, so that a reader can stop there.
    pub fn add(&mut self, line: ImportLine) -> DomainResult<()> {
        let Some(header) = &self.header else {
            self.header = Some(Header {
                columns: columns(&self.fields, &line.cells)?,
                names: line.cells,
            });
            return Ok(());
        };
        if line.cells.iter().all(|cell| cell.trim().is_empty()) {
            return Ok(());
        }
        if self.rows == MAX_IMPORT_ROWS {
            return Err(DomainError::validation(
                "file",
                format!(
                    "at most {MAX_IMPORT_ROWS} rows per import (line {} is one more)",
                    line.line
                ),
            ));
        }
        self.rows += 1;
        let row = match check_row(&header.columns, &header.names, &line, &self.tags_by_name) {
            Ok(row) => row,
            Err(rejected) => {
                self.report.rejected.push(rejected);
                return Ok(());
            }
        };
        match self.seen.get(&row.psid) {
            Some(first) => self.report.rejected.push(RejectedRow {
                line: line.line,
                psid: row.psid,
                problems: vec![CellProblem {
                    column: "psid".to_owned(),
                    message: format!("this PSID is already on line {first}"),
                }],
            }),
            None => {
                self.seen.insert(row.psid.clone(), line.line);
                self.good.push(row);
            }
        }
        Ok(())
    }
}

/// What each header names; an unknown or repeated column refuses the whole file.
fn columns(fields: &[CustomField], headers: &[String]) -> DomainResult<Vec<Column>> {
    let mut columns = Vec::with_capacity(headers.len());
    let mut names_seen = std::collections::HashSet::new();
    for header in headers {
        let name = header.trim().to_lowercase();
        if !names_seen.insert(name.clone()) {
            return Err(DomainError::validation(
                "header",
                format!("the column {header:?} appears twice"),
            ));
        }
        let column = match name.as_str() {
            "psid" => Column::Psid,
            "tags" => Column::Tags,
            other if FIXED_COLUMNS.contains(&other) => Column::ReadOnly,
            other => {
                let by_number = other
                    .strip_prefix("field:")
                    .and_then(|n| n.trim().parse::<i32>().ok());
                let field = fields.iter().find(|f| match by_number {
                    Some(number) => f.number == number,
                    None => f.name.to_lowercase() == other,
                });
                match field {
                    Some(field) if !field.is_archived() => Column::Field(field.clone()),
                    Some(_) => {
                        return Err(DomainError::validation(
                            "header",
                            format!("the custom field {header:?} is archived"),
                        ));
                    }
                    None => {
                        return Err(DomainError::validation(
                            "header",
                            format!(
                                "{header:?} is neither a known column ({}) nor a custom field \
                                 (by name, or as field:NUMBER)",
                                FIXED_COLUMNS.join(", ")
                            ),
                        ));
                    }
                }
            }
        };
        columns.push(column);
    }
    if !columns.iter().any(|c| matches!(c, Column::Psid)) {
        return Err(DomainError::validation(
            "header",
            "a psid column is required",
        ));
    }
    Ok(columns)
}

/// Checks one row against the columns: a PSID, values that fit their fields, known tags.
fn check_row(
    columns: &[Column],
    headers: &[String],
    line: &ImportLine,
    tags_by_name: &HashMap<String, TagId>,
) -> Result<ImportRow, RejectedRow> {
    let mut problems = Vec::new();
    let mut psid = String::new();
    let mut values = Vec::new();
    let mut tag_ids = Vec::new();
    if line.cells.len() != headers.len() {
        problems.push(CellProblem {
            column: String::new(),
            message: format!(
                "has {} cells where the header has {}",
                line.cells.len(),
                headers.len()
            ),
        });
    }
    for ((column, header), cell) in columns.iter().zip(headers).zip(&line.cells) {
        let cell = cell.trim();
        let mut problem = |message: String| {
            problems.push(CellProblem {
                column: header.clone(),
                message,
            });
        };
        match column {
            Column::Psid => {
                psid = cell.to_owned();
                if let Err(err) = text::numeric_id(cell, "psid", 32) {
                    problem(err.to_string());
                }
            }
            Column::Tags => {
                for name in cell
                    .split(TAG_SEPARATOR)
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                {
                    match tags_by_name.get(&name.to_lowercase()) {
                        Some(id) if !tag_ids.contains(id) => tag_ids.push(*id),
                        Some(_) => {}
                        None => problem(format!("no tag is named {name:?}")),
                    }
                }
            }
            Column::Field(field) if !cell.is_empty() => {
                match field.field_type.parse_value(strip_formula_guard(cell)) {
                    Ok(value) => values.push((field.id, value.canonical())),
                    Err(err) => problem(format!(
                        "does not fit {} field {}: {}",
                        field.field_type.as_str(),
                        field.number,
                        err.message
                    )),
                }
            }
            Column::Field(_) | Column::ReadOnly => {}
        }
    }
    if problems.is_empty() {
        return Ok(ImportRow {
            psid,
            values,
            tag_ids,
        });
    }
    // A report stays proportionate to the rows, whatever one row holds.
    if problems.len() > MAX_PROBLEMS_PER_ROW {
        let more = problems.len() - (MAX_PROBLEMS_PER_ROW - 1);
        problems.truncate(MAX_PROBLEMS_PER_ROW - 1);
        problems.push(CellProblem {
            column: String::new(),
            message: format!("and {more} more problems"),
        });
    }
    if psid.chars().count() > MAX_ECHOED_PSID_CHARS {
        psid = psid
            .chars()
            .take(MAX_ECHOED_PSID_CHARS)
            .chain(['…'])
            .collect();
    }
    Err(RejectedRow {
        line: line.line,
        psid,
        problems,
    })
}

/// What a spreadsheet may take a cell for a formula by, when it starts with one (OWASP's CSV
/// injection list: a tab or carriage return can hide a formula behind it).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Exports guard text that a spreadsheet would run as a formula with a leading `'`; imports
/// take it off again.
pub fn strip_formula_guard(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_STARTS) => rest,
        _ => cell,
    }
}

/// Guards a cell a spreadsheet could run as a formula (one of [`FORMULA_STARTS`] first),
/// unless it is a plain number such as `-12.5`.
pub fn formula_guarded(cell: &str) -> std::borrow::Cow<'_, str> {
    let number = cell.parse::<f64>().is_ok_and(f64::is_finite);
    if cell.starts_with(FORMULA_STARTS) && !number {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn import_with_header(header: &[&str]) -> DomainResult<Import> {
        let mut import = Import {
            tenant_id: TenantId(uuid::Uuid::nil()),
            page_id: PageId(uuid::Uuid::nil()),
            fields: Vec::new(),
            tags_by_name: HashMap::from([("vip".to_owned(), TagId(uuid::Uuid::nil()))]),
            header: None,
            rows: 0,
            good: Vec::new(),
            seen: HashMap::new(),
            report: ImportReport::default(),
        };
        import.add(line(1, header))?;
        Ok(import)
    }

    fn line(line: u64, cells: &[&str]) -> ImportLine {
        ImportLine {
            line,
            cells: cells.iter().map(|c| (*c).to_owned()).collect(),
        }
    }

    #[test]
    fn the_row_after_the_cap_refuses_the_file_and_blank_rows_do_not_count() {
        let mut import = import_with_header(&["psid", "tags"]).unwrap();
        for n in 0..MAX_IMPORT_ROWS as u64 {
            import.add(line(n + 2, &[&n.to_string(), ""])).unwrap();
            import.add(line(n + 2, &[" ", ""])).unwrap();
        }
        assert_eq!(import.good.len(), MAX_IMPORT_ROWS);
        import.add(line(0, &["", "  "])).unwrap();
        let err = import.add(line(50_002, &["1", ""])).unwrap_err();
        assert_eq!(err.field(), Some("file"));
        assert!(err.to_string().contains("50002"), "{err}");
    }

    #[test]
    fn a_repeated_psid_names_its_first_line_and_a_row_reports_at_most_so_many_problems() {
        let mut import = import_with_header(&["psid", "tags"]).unwrap();
        import.add(line(2, &["1001", "VIP"])).unwrap();
        import.add(line(3, &["1001", ""])).unwrap();
        let unknown_tags: Vec<String> = (0..1000).map(|n| format!("t{n}")).collect();
        let long_psid = "x".repeat(10_000);
        import
            .add(line(4, &[&long_psid, &unknown_tags.join(";")]))
            .unwrap();
        assert_eq!(import.good.len(), 1);
        assert_eq!(import.good[0].tag_ids.len(), 1);
        let rejected = &import.report.rejected;
        assert!(rejected[0].problems[0].message.contains("line 2"));
        assert_eq!(rejected[1].problems.len(), MAX_PROBLEMS_PER_ROW);
        assert!(
            rejected[1].problems[MAX_PROBLEMS_PER_ROW - 1]
                .message
                .contains("992 more")
        );
        assert!(rejected[1].psid.chars().count() <= MAX_ECHOED_PSID_CHARS + 1);
    }

    #[test]
    fn a_header_without_psid_or_with_a_column_twice_is_refused() {
        assert!(import_with_header(&["tags"]).is_err());
        assert!(import_with_header(&["psid", "PSID "]).is_err());
        assert!(import_with_header(&["psid", "shoe"]).is_err());
    }

    #[test]
    fn formulas_are_guarded_and_unguarded_but_numbers_are_not() {
        assert_eq!(formula_guarded("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(formula_guarded("-12.5"), "-12.5");
        assert_eq!(formula_guarded("plain"), "plain");
        assert_eq!(strip_formula_guard("'=SUM(A1)"), "=SUM(A1)");
        assert_eq!(strip_formula_guard("'quoted"), "'quoted");
    }

    #[test]
    fn every_start_on_owasps_list_is_guarded_and_unguarded_again() {
        for cell in [
            "=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1+1", "\r=1+1", "-inf",
        ] {
            let guarded = formula_guarded(cell);
            assert_eq!(guarded, format!("'{cell}"), "{cell:?}");
            assert_eq!(strip_formula_guard(&guarded), cell);
        }
        assert_eq!(formula_guarded("+33 1 23"), "'+33 1 23");
        assert_eq!(formula_guarded("1e3"), "1e3");
        assert_eq!(formula_guarded("a\tb"), "a\tb");
    }
}
