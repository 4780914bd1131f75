//! Finding the exported records inside one JSON document or CSV table;
//! each record is then read by [`super::cloud`].
//!
//! ```text
//! {                                         aws logs filter-log-events / get-log-events
//!     "events": [
//!         { "logStreamName": "…", "timestamp": 1682909282621, "message": "May  1 10:48:02 …", … },
//! [                                         gcloud logging read --format=json (newest first)
//!   { "insertId": "…", "jsonPayload": { "MESSAGE": "…", … }, "logName": "projects/…/logs/kubelet", … },
//! @timestamp,@message                       Logs Insights "Export results" as CSV
//! 2023-05-01 02:48:02.621,"May  1 10:48:02 ecs-prod-003 dockerd: …"
//! ```
//!
//! A document's records are the values at one depth of nesting, which each
//! vendor's schema fixes ([`Document::depth`]): a small scanner follows
//! brackets outside strings, so a document is never parsed whole and is
//! cut into pieces after any whole record like a file of lines. A piece
//! after the first starts just after a record, inside the records' array
//! (its first byte is not an opening bracket), at the records' depth.
//!
//! A CSV table's columns are named by its header, which only the first
//! piece holds: the header is read once, when the input's format is
//! decided, and its column positions travel with the format ([`Columns`]).
//!
//! Each entry spans the lines from the end of the previous record to the
//! line its record ends on; the document's brackets and the CSV header
//! are counted in the first entry, its closing brackets in the last, so
//! they are not called unparsed. Values at the records' depth that are no
//! record are.

use std::ops::Range;

use serde_json::{Map, Value};

use super::cloud;
use super::journal_export::Entry;

/// A JSON document that an export command prints whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Document {
    /// `aws logs filter-log-events`, `aws logs get-log-events`:
    /// `{"events": [event, …], …}`.
    CloudWatch,
    /// `aws logs get-query-results`: `{"results": [[{field, value}, …], …]}`.
    Insights,
    /// `gcloud logging read --format=json`: `[LogEntry, …]`.
    CloudLogging,
    /// `az monitor log-analytics query` on the `Syslog` table: `[row, …]`.
    AzureSyslog,
    /// Elasticsearch or OpenSearch `_search`: `{"hits": {"hits": [hit, …]}}`.
    SearchHits,
}

impl Document {
    /// Decides from the first bytes of an input, by the keys each schema
    /// names.
    pub fn detect(sample: &[u8]) -> Option<Document> {
        let text = sample.trim_ascii_start();
        let has = |key: &str| memchr::memmem::find(text, key.as_bytes()).is_some();
        // A journal record (`journalctl -o json-pretty`) opens with its own
        // fields.
        let first_key = text.get(1..).unwrap_or_default().trim_ascii_start();
        if first_key.starts_with(b"\"__") {
            return None;
        }
        match text.first()? {
            b'{' if has("\"events\"") && has("\"timestamp\"") && has("\"message\"") => {
                Some(Document::CloudWatch)
            }
            b'{' if has("\"results\"") && has("\"field\"") && has("\"@timestamp\"") => {
                Some(Document::Insights)
            }
            b'{' if has("\"hits\"") && has("\"_source\"") => Some(Document::SearchHits),
            b'[' if has("\"logName\"") && (has("\"textPayload\"") || has("\"jsonPayload\"")) => {
                Some(Document::CloudLogging)
            }
            b'[' if has("\"SyslogMessage\"") => Some(Document::AzureSyslog),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Document::CloudWatch => "cloudwatch-json",
            Document::Insights => "cloudwatch-insights-json",
            Document::CloudLogging => "cloud-logging-json",
            Document::AzureSyslog => "azure-syslog-json",
            Document::SearchHits => "elasticsearch-hits",
        }
    }

    /// How many arrays and objects enclose a record, and the key of the
    /// array that holds the records.
    fn place(self) -> (usize, Option<&'static str>) {
        match self {
            Document::CloudLogging | Document::AzureSyslog => (1, None),
            Document::CloudWatch => (2, Some("events")),
            Document::Insights => (2, Some("results")),
            Document::SearchHits => (3, Some("hits")),
        }
    }

    /// The records of a document (or of a piece of it), in order.
    pub fn entries<'a>(self, buf: &'a [u8]) -> impl Iterator<Item = Entry<'a>> + 'a {
        let (depth, key) = self.place();
        let records = records_at(buf, depth, key);
        spans(buf, records.into_iter().map(|r| (r.clone(), r.end)), 0).map(
            move |(span, lines, record)| Entry {
                offset: span.start,
                lines,
                envelope: record.and_then(|r| read_record(&buf[r])),
            },
        )
    }

    /// Where the last whole record of a piece ends: after the newline that
    /// follows it.
    pub fn record_end(self, buf: &[u8]) -> Option<usize> {
        let (depth, key) = self.place();
        records_at(buf, depth, key)
            .iter()
            .rev()
            .find_map(|r| memchr::memchr(b'\n', &buf[r.end..]).map(|i| r.end + i + 1))
    }
}

/// One JSON record: an object, or a Logs Insights row.
fn read_record(bytes: &[u8]) -> Option<super::Envelope<'static>> {
    match serde_json::from_slice(bytes).ok()? {
        Value::Object(record) => cloud::envelope(&record),
        Value::Array(fields) => cloud::envelope(&cloud::insights_row(&fields)?),
        _ => None,
    }
}

/// The values that open at `depth` of nesting in `buf`, inside the array
/// named `key` (any array for `None`), where `buf` starts a document (its
/// first byte is `{` or `[`) or follows a record in that array.
fn records_at(buf: &[u8], depth: usize, key: Option<&str>) -> Vec<Range<usize>> {
    let starts_document = starts_document(buf);
    let mut level = if starts_document { 0 } else { depth };
    let mut in_records = !starts_document;
    let mut in_string = None;
    let mut escaped = false;
    let mut last_key = 0..0;
    let mut open = None;
    let mut out = Vec::new();
    for (i, &b) in buf.iter().enumerate() {
        if let Some(start) = in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => {
                    in_string = None;
                    if level + 1 == depth {
                        last_key = start + 1..i;
                    }
                }
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = Some(i),
            b'{' | b'[' => {
                if level + 1 == depth && b == b'[' {
                    in_records = key.is_none_or(|k| buf[last_key.clone()] == *k.as_bytes());
                } else if level == depth && in_records {
                    open = Some(i);
                }
                level += 1;
            }
            b'}' | b']' if level > 0 => {
                level -= 1;
                if level == depth {
                    if let Some(start) = open.take() {
                        out.push(start..i + 1);
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Whether `buf` opens a document rather than following a record: it
/// opens with a bracket, and not with a whole record (a piece after the
/// first starts with the record after the one it was cut after, or with
/// the `]` that closes the records).
fn starts_document(buf: &[u8]) -> bool {
    let at = buf.len() - buf.trim_ascii_start().len();
    if !matches!(buf.get(at), Some(b'{' | b'[')) {
        return false;
    }
    match first_value_end(&buf[at..]) {
        Some(end) => read_record(&buf[at..at + end]).is_none(),
        None => true,
    }
}

/// Where the JSON value that opens `buf` with a bracket ends, if it does.
fn first_value_end(buf: &[u8]) -> Option<usize> {
    let mut level = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, &b) in buf.iter().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => level += 1,
            b'}' | b']' => {
                level = level.checked_sub(1)?;
                if level == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// Cuts `buf` into one span per record: each from the end of the previous
/// span to the newline after its record (`end`), the last to the end of
/// `buf`. Yields each span with the lines it counts and its record (`None`
/// for a buffer with no record: it is one unread entry). `lead` lines
/// before `buf` are counted in the first span.
fn spans<'b>(
    buf: &'b [u8],
    records: impl Iterator<Item = (Range<usize>, usize)> + 'b,
    lead: u64,
) -> impl Iterator<Item = (Range<usize>, u64, Option<Range<usize>>)> + 'b {
    let mut records = records.peekable();
    let mut from = 0usize;
    let mut lead = lead;
    let mut any = false;
    std::iter::from_fn(move || {
        let Some((record, end)) = records.next() else {
            let rest = &buf[from.min(buf.len())..];
            if any || rest.trim_ascii().is_empty() {
                return None;
            }
            any = true;
            from = buf.len();
            return Some((0..buf.len(), count_lines(rest) + lead, None));
        };
        any = true;
        let to = if records.peek().is_none() {
            buf.len()
        } else {
            memchr::memchr(b'\n', &buf[end..])
                .map_or(buf.len(), |i| end + i + 1)
                .max(from)
        };
        let span = from..to;
        let lines = count_lines(&buf[span.clone()]) + std::mem::take(&mut lead);
        from = to;
        Some((span, lines, Some(record)))
    })
}

/// Lines in `bytes`: its newlines, and one more when it ends without one.
fn count_lines(bytes: &[u8]) -> u64 {
    let newlines = memchr::memchr_iter(b'\n', bytes).count() as u64;
    newlines + u64::from(!bytes.is_empty() && !bytes.ends_with(b"\n"))
}

/// The columns of a CSV export that podmortem reads, by position; named by
/// the header of the table's first line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Columns {
    time: u8,
    message: u8,
    host: Option<u8>,
    program: Option<u8>,
    pid: Option<u8>,
    /// Whether the table is Azure Monitor's `Syslog` (else Logs Insights).
    azure: bool,
}

impl Columns {
    /// Reads the header line of a Logs Insights (`@timestamp`, `@message`)
    /// or Azure Monitor `Syslog` (`TimeGenerated [UTC]`, `SyslogMessage`,
    /// `Computer`, `ProcessName`, `ProcessID`) CSV export.
    pub fn detect(sample: &[u8]) -> Option<Columns> {
        let sample = sample.strip_prefix("\u{feff}".as_bytes()).unwrap_or(sample);
        let (row, _) = csv_row(sample, 0)?;
        Columns::of_header(&row)
    }

    fn of_header(cells: &[String]) -> Option<Columns> {
        let at = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| cells.iter().position(|c| c.trim() == *n))
                .and_then(|i| u8::try_from(i).ok())
        };
        let insights = at(&["@message"]);
        let azure = at(&["SyslogMessage"]);
        let message = insights.or(azure)?;
        let time = if azure.is_some() {
            at(&["TimeGenerated [UTC]", "TimeGenerated", "EventTime [UTC]"])?
        } else {
            at(&["@timestamp"])?
        };
        Some(Columns {
            time,
            message,
            host: at(&["Computer", "HostName"]),
            program: at(&["ProcessName"]),
            pid: at(&["ProcessID"]),
            azure: azure.is_some(),
        })
    }

    pub fn name(self) -> &'static str {
        if self.azure {
            "azure-syslog-csv"
        } else {
            "cloudwatch-insights-csv"
        }
    }

    /// The rows of a table (or of a piece of it), in order; the header is
    /// counted with the first row.
    pub fn entries<'a>(self, buf: &[u8]) -> impl Iterator<Item = Entry<'a>> {
        let mut at = buf.len() - buf.strip_prefix("\u{feff}".as_bytes()).unwrap_or(buf).len();
        let mut lead = 0;
        if let Some((header, end)) = csv_row(buf, at) {
            if Columns::of_header(&header).is_some() {
                lead = count_lines(&buf[..end]);
                at = end;
            }
        }
        let mut entries = Vec::new();
        while let Some((cells, end)) = csv_row(buf, at) {
            entries.push(Entry {
                offset: at,
                lines: count_lines(&buf[at..end]) + std::mem::take(&mut lead),
                envelope: self.read_row(&cells),
            });
            at = end;
        }
        if lead > 0 {
            // A table that is only its header.
            entries.push(Entry {
                offset: 0,
                lines: lead,
                envelope: None,
            });
        }
        entries.into_iter()
    }

    /// One row as the record of its vendor, with the columns under the
    /// schema's names.
    fn read_row(self, cells: &[String]) -> Option<super::Envelope<'static>> {
        let cell = |i: Option<u8>| cells.get(usize::from(i?)).cloned();
        let mut record = Map::new();
        let mut put = |key: &str, value: Option<String>| {
            if let Some(v) = value.filter(|v| !v.is_empty()) {
                record.insert(key.to_string(), Value::String(v));
            }
        };
        if self.azure {
            put("TimeGenerated", cell(Some(self.time)));
            put("SyslogMessage", cell(Some(self.message)));
            put("Computer", cell(self.host));
            put("ProcessName", cell(self.program));
            put("ProcessID", cell(self.pid));
        } else {
            put("@timestamp", cell(Some(self.time)));
            put("@message", cell(Some(self.message)));
        }
        cloud::envelope(&record)
    }

    /// Where the last whole row of a piece ends.
    pub fn record_end(self, buf: &[u8]) -> Option<usize> {
        let mut at = 0;
        let mut last = None;
        while let Some((_, end)) = csv_row(buf, at) {
            if buf[..end].ends_with(b"\n") {
                last = Some(end);
            }
            at = end;
        }
        last
    }
}

/// The cells of the CSV row that starts at `at` (RFC 4180: a quoted cell
/// may hold commas, newlines and doubled quotes), and where the next row
/// starts; `None` at the end of `buf`.
fn csv_row(buf: &[u8], at: usize) -> Option<(Vec<String>, usize)> {
    if at >= buf.len() {
        return None;
    }
    let mut cells = Vec::new();
    let mut cell = Vec::new();
    let mut quoted = false;
    let mut i = at;
    while i < buf.len() {
        let b = buf[i];
        i += 1;
        match b {
            b'"' if quoted && buf.get(i) == Some(&b'"') => {
                cell.push(b'"');
                i += 1;
            }
            b'"' => quoted = !quoted,
            b',' if !quoted => cells.push(std::mem::take(&mut cell)),
            b'\n' if !quoted => break,
            _ => cell.push(b),
        }
    }
    if cell.last() == Some(&b'\r') {
        cell.pop();
    }
    cells.push(cell);
    let cells = cells
        .into_iter()
        .map(|c| String::from_utf8_lossy(&c).into_owned())
        .collect();
    Some((cells, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLOUDWATCH: &str = r#"{
    "events": [
        {
            "logStreamName": "i-0abc",
            "timestamp": 1682909282621,
            "message": "May  1 10:48:02 ecs-prod-003 dockerd: x {\"y\": [1]}",
            "ingestionTime": 1682909283000,
            "eventId": "1"
        },
        {
            "logStreamName": "i-0abc",
            "timestamp": 1682909292453,
            "message": "May  1 10:48:12 ecs-prod-003 dockerd: z",
            "ingestionTime": 1682909293000,
            "eventId": "2"
        }
    ],
    "searchedLogStreams": [
        {"logStreamName": "i-0abc", "searchedCompletely": true}
    ]
}
"#;

    #[test]
    fn cloudwatch_document_records_and_lines() {
        assert_eq!(
            Document::detect(CLOUDWATCH.as_bytes()),
            Some(Document::CloudWatch)
        );
        let all: Vec<Entry<'_>> = Document::CloudWatch
            .entries(CLOUDWATCH.as_bytes())
            .collect();
        assert_eq!(all.len(), 2, "searchedLogStreams holds no events");
        assert_eq!(all.iter().map(|e| e.lines).sum::<u64>(), 21);
        assert_eq!(all[0].lines, 9, "the opening brackets and the record");
        let e = all[1].envelope.as_ref().unwrap();
        assert_eq!(e.message.as_ref(), b"z");
    }

    #[test]
    fn pieces_cut_after_a_record_read_the_same() {
        let buf = CLOUDWATCH.as_bytes();
        let cut = Document::CloudWatch.record_end(&buf[..300]).unwrap();
        let first: Vec<Entry<'_>> = Document::CloudWatch.entries(&buf[..cut]).collect();
        let rest: Vec<Entry<'_>> = Document::CloudWatch.entries(&buf[cut..]).collect();
        assert_eq!((first.len(), rest.len()), (1, 1));
        assert_eq!(first[0].lines + rest[0].lines, 21);
        assert_eq!(rest[0].envelope.as_ref().unwrap().message.as_ref(), b"z");
        assert_eq!(Document::CloudWatch.record_end(&buf[..40]), None);
    }

    #[test]
    fn csv_tables_with_quoted_newlines() {
        let insights = "@timestamp,@message,@logStream\n2023-05-01 02:48:02.621,\"May  1 10:48:02 ecs-prod-003 dockerd: say \"\"hi\"\"\nsecond line\",i-0abc\n2023-05-01 02:48:12.453,plain,i-0abc\n";
        let columns = Columns::detect(insights.as_bytes()).unwrap();
        assert_eq!(columns.name(), "cloudwatch-insights-csv");
        let all: Vec<Entry<'_>> = columns.entries(insights.as_bytes()).collect();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].lines, 3, "header and a two-line row");
        let e = all[0].envelope.as_ref().unwrap();
        assert_eq!(e.message.as_ref(), b"say \"hi\"\nsecond line");
        assert_eq!(e.host.as_deref(), Some(&b"ecs-prod-003"[..]));
        let cut = columns.record_end(&insights.as_bytes()[..140]).unwrap();
        assert!(insights[..cut].ends_with("i-0abc\n"));
        let later: Vec<Entry<'_>> = columns.entries(&insights.as_bytes()[cut..]).collect();
        assert_eq!(later.len(), 1);
        assert!(later[0].envelope.is_some());
        let azure = "\u{feff}TenantId,SourceSystem,\"TimeGenerated [UTC]\",Computer,Facility,HostName,SeverityLevel,SyslogMessage,ProcessID,HostIP,ProcessName,Type\nt,Linux,\"5/1/2023, 2:48:02.621 AM\",aks-node-1,daemon,aks-node-1,info,shim disconnected,1201,10.0.0.4,containerd,Syslog\n";
        let columns = Columns::detect(azure.as_bytes()).unwrap();
        let all: Vec<Entry<'_>> = columns.entries(azure.as_bytes()).collect();
        let e = all[0].envelope.as_ref().unwrap();
        assert_eq!(e.program.as_deref(), Some(&b"containerd"[..]));
        assert_eq!(e.host.as_deref(), Some(&b"aks-node-1"[..]));
        assert_eq!(all[0].lines, 2);
        assert!(Columns::detect(b"name,value\na,b\n").is_none());
    }
}
