//! CSV records read as a body arrives (csv-core's incremental reader): each record is handed
//! over as soon as it is complete, so memory holds one record of at most a given size, never
//! the body. Records carry the line they start on, as the `csv` crate counts lines.

use csv_core::{ReadRecordResult, Reader};

/// The byte-order mark some spreadsheets write first.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One record: its line in the file and its cells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvRecord {
    /// The line it starts on (the first line is 1).
    pub line: u64,
    /// Its cells.
    pub cells: Vec<String>,
}

/// Why a body is not readable as CSV.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvError {
    /// A record that is not UTF-8 text.
    #[error("line {line} is not UTF-8 text")]
    NotUtf8 {
        /// Where the record starts.
        line: u64,
    },
    /// A record longer than the reader accepts.
    #[error("the record on line {line} is longer than {max_bytes} bytes")]
    TooLong {
        /// Where the record starts.
        line: u64,
        /// The bound.
        max_bytes: usize,
    },
}

/// Reads records from a body given in pieces.
pub struct CsvRecords {
    reader: Reader,
    max_record_bytes: usize,
    /// The current record's cell bytes so far (`fields[..field_len]`) and cell ends.
    fields: Vec<u8>,
    field_len: usize,
    ends: Vec<usize>,
    end_len: usize,
    /// The line the current record starts on.
    line: u64,
    /// The first bytes, until they are known to be or not to be a byte-order mark.
    head: Option<Vec<u8>>,
}

impl CsvRecords {
    /// A reader that refuses records of more than `max_record_bytes` bytes (cells unquoted).
    pub fn new(max_record_bytes: usize) -> Self {
        Self {
            reader: Reader::new(),
            max_record_bytes,
            fields: vec![0; 1024.min(max_record_bytes.max(1))],
            field_len: 0,
            ends: vec![0; 64],
            end_len: 0,
            line: 1,
            head: Some(Vec::with_capacity(BOM.len())),
        }
    }

    /// Reads the next piece of the body, giving `each` every record it completes; stops at the
    /// first error, whether the body's or `each`'s.
    pub fn feed<E: From<CsvError>>(
        &mut self,
        mut input: &[u8],
        each: &mut impl FnMut(CsvRecord) -> Result<(), E>,
    ) -> Result<(), E> {
        if let Some(head) = &mut self.head {
            let take = (BOM.len() - head.len()).min(input.len());
            head.extend_from_slice(&input[..take]);
            input = &input[take..];
            if head.len() < BOM.len() && BOM.starts_with(head) {
                return Ok(());
            }
            self.past_head(each)?;
        }
        if input.is_empty() {
            return Ok(());
        }
        self.read(input, each)
    }

    /// The body has ended: gives `each` its last record if no line break ended it.
    pub fn finish<E: From<CsvError>>(
        &mut self,
        each: &mut impl FnMut(CsvRecord) -> Result<(), E>,
    ) -> Result<(), E> {
        self.past_head(each)?;
        self.read(&[], each)
    }

    /// Reads the first bytes held back, unless they are a byte-order mark.
    fn past_head<E: From<CsvError>>(
        &mut self,
        each: &mut impl FnMut(CsvRecord) -> Result<(), E>,
    ) -> Result<(), E> {
        match self.head.take() {
            Some(head) if !head.is_empty() && head != BOM => self.read(&head, each),
            _ => Ok(()),
        }
    }

    /// Reads `input`; an empty one tells the reader the body has ended.
    fn read<E: From<CsvError>>(
        &mut self,
        mut input: &[u8],
        each: &mut impl FnMut(CsvRecord) -> Result<(), E>,
    ) -> Result<(), E> {
        loop {
            let (result, read, written, ended) = self.reader.read_record(
                input,
                &mut self.fields[self.field_len..],
                &mut self.ends[self.end_len..],
            );
            input = &input[read..];
            self.field_len += written;
            self.end_len += ended;
            match result {
                ReadRecordResult::InputEmpty => return Ok(()),
                ReadRecordResult::OutputFull => self.grow_fields()?,
                ReadRecordResult::OutputEndsFull => {
                    // A cell takes at least one byte (its comma): as many ends as bytes.
                    let more = self.ends.len().min(self.max_record_bytes);
                    self.ends.resize(self.ends.len() + more, 0);
                }
                ReadRecordResult::Record => {
                    let record = self.take_record()?;
                    each(record)?;
                }
                ReadRecordResult::End => return Ok(()),
            }
        }
    }

    fn grow_fields(&mut self) -> Result<(), CsvError> {
        if self.fields.len() >= self.max_record_bytes {
            return Err(CsvError::TooLong {
                line: self.line,
                max_bytes: self.max_record_bytes,
            });
        }
        let size = (self.fields.len() * 2).min(self.max_record_bytes);
        self.fields.resize(size, 0);
        Ok(())
    }

    /// The record just completed; the next one starts where the reader is now.
    fn take_record(&mut self) -> Result<CsvRecord, CsvError> {
        let line = self.line;
        self.line = self.reader.line();
        let (field_len, end_len) = (self.field_len, self.end_len);
        self.field_len = 0;
        self.end_len = 0;
        // Cells end at ASCII delimiters, so a record that is UTF-8 as a whole is UTF-8 cell by
        // cell.
        let text = std::str::from_utf8(&self.fields[..field_len])
            .map_err(|_| CsvError::NotUtf8 { line })?;
        let mut start = 0;
        let cells = self.ends[..end_len]
            .iter()
            .map(|&end| {
                let cell = text[start..end].to_owned();
                start = end;
                cell
            })
            .collect();
        Ok(CsvRecord { line, cells })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_in_pieces(body: &[u8], piece: usize) -> Result<Vec<CsvRecord>, CsvError> {
        let mut records = CsvRecords::new(1024);
        let mut out = Vec::new();
        let mut each = |record| {
            out.push(record);
            Ok::<_, CsvError>(())
        };
        for chunk in body.chunks(piece) {
            records.feed(chunk, &mut each)?;
        }
        records.finish(&mut each)?;
        Ok(out)
    }

    /// The `csv` crate's reading of the same body: the reference.
    fn read_whole(body: &[u8]) -> Vec<CsvRecord> {
        let body = body.strip_prefix(BOM).unwrap_or(body);
        csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(false)
            .from_reader(body)
            .records()
            .map(|record| {
                let record = record.expect("a record");
                CsvRecord {
                    line: record.position().expect("a position").line(),
                    cells: record.iter().map(str::to_owned).collect(),
                }
            })
            .collect()
    }

    #[test]
    fn records_read_in_any_pieces_are_the_csv_crates() {
        let bodies: [&[u8]; 5] = [
            "\u{feff}psid,City\n123,\"Paris, France\"\n\n456,\"say \"\"hi\"\"\nthere\"\n"
                .as_bytes(),
            b"psid\r\n1\r\n2",
            b"psid,a\n1,2,3\n\n\n4\n",
            b"",
            b"a,\"b\nc\",d\r\ne\n",
        ];
        for body in bodies {
            let expected = read_whole(body);
            for piece in [1, 2, 3, 7, 1000] {
                assert_eq!(
                    read_in_pieces(body, piece).unwrap(),
                    expected,
                    "{body:?} in pieces of {piece}"
                );
            }
        }
    }

    #[test]
    fn a_record_longer_than_the_bound_or_not_utf8_is_refused_with_its_line() {
        let mut body = b"psid\n1\n".to_vec();
        body.extend(std::iter::repeat_n(b'9', 2000));
        body.push(b'\n');
        assert_eq!(
            read_in_pieces(&body, 100),
            Err(CsvError::TooLong {
                line: 3,
                max_bytes: 1024
            })
        );
        assert_eq!(
            read_in_pieces(b"psid\n1\n\xff\xfe\n", 3),
            Err(CsvError::NotUtf8 { line: 3 })
        );
        // Half a byte-order mark is no mark: it stays, and is no text.
        assert_eq!(
            read_in_pieces(b"\xEF\xBBpsid\n", 1),
            Err(CsvError::NotUtf8 { line: 1 })
        );
    }

    #[test]
    fn reading_stops_at_the_first_refused_record() {
        let mut records = CsvRecords::new(1024);
        let mut seen = 0;
        let result = records.feed(b"a\nb\nc\nd\n", &mut |_| {
            seen += 1;
            if seen == 2 {
                Err(CsvError::NotUtf8 { line: 0 })
            } else {
                Ok(())
            }
        });
        assert!(result.is_err());
        assert_eq!(seen, 2);
    }
}
