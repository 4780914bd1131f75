//! Records exported from a cloud provider's logging, read through the one
//! journal-fields mapping ([`super::journal_export::envelope_from_fields`]).
//!
//! Managed clusters keep node logs in the provider's logging service, and a
//! post-mortem there starts from an export. Each vendor's record is
//! recognized by its keys (never by a file name) and its fields are offered
//! to the journal mapping under the journal's names: the record's time as
//! `__REALTIME_TIMESTAMP`, its host as `_HOSTNAME`, its program as
//! `SYSLOG_IDENTIFIER`, its unit as `_SYSTEMD_UNIT`, its text as `MESSAGE`.
//! Records shipped from journald keep the journal's own field names (Fluent
//! Bit's and Fluentd's systemd inputs, GKE's `jsonPayload`), and those are
//! read first, with the spellings the shippers' options give them
//! (`strip_underscores`, `lowercase`, OpenShift's `systemd.t.*`/`systemd.u.*`).
//!
//! | export | record | time | host | program | message |
//! |---|---|---|---|---|---|
//! | CloudWatch `filter-log-events`, `get-log-events` | `events[]` | `timestamp` (ms) | in the message | in the message | `message` |
//! | CloudWatch Logs Insights | `results[][]` `{field, value}` | `@timestamp` | in the message | in the message | `@message` |
//! | Cloud Logging `gcloud logging read` | `[]` LogEntry | `timestamp` | `resource.labels.node_name` | `logName`'s last part | `textPayload`, `jsonPayload.MESSAGE` |
//! | Azure Monitor `Syslog` | `[]` row | `TimeGenerated` | `Computer` | `ProcessName` | `SyslogMessage` |
//! | Loki `logcli --output=jsonl` | a line | `timestamp` | `labels.host` | `labels.unit` | `line` |
//! | Elasticsearch / OpenSearch `_search` | `hits.hits[]._source` | as a shipper's record | | | |
//! | Fluent Bit, Fluentd records (ndjson) | a line | `@timestamp`, `time`, `date` | `_HOSTNAME`, `hostname`, `host`, `kubernetes.host` | `SYSLOG_IDENTIFIER`, `ident`, `kubernetes.container_name` | `MESSAGE`, `log`, `message` |
//!
//! A message that is itself a log line (the CloudWatch agent and promtail
//! ship `/var/log/messages` line by line) is framed again by the line
//! formats, and what it says of host, program and pid wins; the export's
//! time stays the record's envelope time, since it is absolute. A message
//! that is a JSON object (Fluent Bit's records as CloudWatch messages) is
//! read as a record in its own right.
//!
//! How the records are found in a file (one per line, or inside one JSON
//! document or CSV table) is [`super::cloud_doc`]'s job; this module maps
//! one record.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDateTime};
use serde_json::{Map, Value};

use super::journal_export::envelope_from_fields;
use super::{Envelope, LINE_FORMATS, UNTIMED_KERNEL};

/// Parses `line` as one exported record in a JSON object per line (Loki
/// `--output=jsonl`, Fluent Bit or Fluentd records, Cloud Logging entries
/// written by a sink), or `None`.
///
/// ```
/// let line = br#"{"labels":{"host":"ecs-prod-003","unit":"kubelet.service"},"line":"I0501 x","timestamp":"2023-05-01T10:45:00.199052+08:00"}"#;
/// let e = podmortem::format::cloud::parse(line).unwrap();
/// assert_eq!(e.host.as_deref(), Some(&b"ecs-prod-003"[..]));
/// assert_eq!(e.message.as_ref(), b"I0501 x");
/// ```
pub fn parse(line: &[u8]) -> Option<Envelope<'static>> {
    // The journal's own JSON (`journalctl -o json`) is journal-json's.
    if line.first() != Some(&b'{')
        || memchr::memmem::find(line, b"\"__REALTIME_TIMESTAMP\"").is_some()
    {
        return None;
    }
    let Value::Object(record) = serde_json::from_slice(line).ok()? else {
        return None;
    };
    envelope(&record)
}

/// The envelope of one exported record, whichever vendor wrote it, or
/// `None` when it is no record this module knows (it lacks a time or a
/// message).
pub fn envelope(record: &Map<String, Value>) -> Option<Envelope<'static>> {
    let view = View::of(record, 0)?;
    let outer = envelope_from_fields(|key| view.get(key).map(|v| Cow::Owned(v.into_bytes())))?;
    Some(reframe(outer))
}

/// Reads a Logs Insights row (`[{"field":"@timestamp","value":…},…]`) as
/// the record it describes.
pub fn insights_row(fields: &[Value]) -> Option<Map<String, Value>> {
    let mut record = Map::new();
    for f in fields {
        let (Some(name), Some(value)) = (
            f.get("field").and_then(Value::as_str),
            f.get("value").and_then(Value::as_str),
        ) else {
            continue;
        };
        record.insert(name.to_string(), Value::String(value.to_string()));
    }
    (!record.is_empty()).then_some(record)
}

/// How deep messages that are JSON records are followed.
const MAX_NESTING: u8 = 2;

/// One record's fields under the names the journal mapping asks for.
#[derive(Default)]
struct View<'r> {
    /// The object that carries journal field names, if any.
    journal: Option<&'r Map<String, Value>>,
    /// Microseconds since the epoch.
    time: Option<i64>,
    host: Option<String>,
    program: Option<String>,
    unit: Option<String>,
    pid: Option<String>,
    message: Option<String>,
}

impl<'r> View<'r> {
    /// Recognizes the vendor by the record's keys.
    fn of(record: &'r Map<String, Value>, depth: u8) -> Option<View<'r>> {
        if let Some(Value::Object(source)) = record.get("_source") {
            return View::of(source, depth);
        }
        let view = if record.contains_key("logName")
            && (record.contains_key("textPayload") || record.contains_key("jsonPayload"))
        {
            View::cloud_logging(record)
        } else if let Some(message) = record.get("SyslogMessage") {
            View {
                time: text_time(record.get("TimeGenerated").or(record.get("EventTime"))),
                host: string(record.get("Computer").or(record.get("HostName"))),
                program: string(record.get("ProcessName")),
                pid: string(record.get("ProcessID")),
                message: string(Some(message)),
                ..View::default()
            }
        } else if let (Some(Value::String(line)), Some(Value::Object(labels))) =
            (record.get("line"), record.get("labels"))
        {
            View {
                time: text_time(record.get("timestamp")),
                host: first_string(labels, &["host", "hostname", "nodename", "node_name"]),
                program: first_string(labels, &["syslog_identifier", "unit", "service_name"]),
                message: Some(line.clone()),
                ..View::default()
            }
        } else if let (Some(Value::String(message)), Some(Value::Number(ms))) =
            (record.get("message"), record.get("timestamp"))
        {
            // CloudWatch Logs (FilteredLogEvent, OutputLogEvent): ms.
            let time = ms.as_i64().and_then(|ms| ms.checked_mul(1000));
            View {
                time,
                message: Some(message.clone()),
                ..View::default()
            }
        } else if let Some(Value::String(message)) = record.get("@message") {
            // CloudWatch Logs Insights: UTC, `2023-05-01 02:48:02.621`.
            View {
                time: text_time(record.get("@timestamp")),
                message: Some(message.clone()),
                ..View::default()
            }
        } else {
            View::shipper(record)?
        };
        view.unwrap_json_message(depth)
    }

    /// A Cloud Logging `LogEntry`.
    fn cloud_logging(entry: &'r Map<String, Value>) -> View<'r> {
        let payload = entry.get("jsonPayload").and_then(Value::as_object);
        let resource_label = |key: &str| {
            entry
                .get("resource")
                .and_then(|r| r.get("labels"))
                .and_then(|l| l.get(key))
        };
        let container = entry
            .get("resource")
            .and_then(|r| r.get("type"))
            .is_some_and(|t| t == "k8s_container");
        let log = entry
            .get("logName")
            .and_then(Value::as_str)
            .and_then(|n| n.rsplit('/').next())
            .map(|n| n.replace("%2F", "/"));
        let program = if container {
            string(resource_label("container_name"))
        } else {
            log
        };
        let message = string(entry.get("textPayload"))
            .or_else(|| payload.and_then(|p| first_string(p, &["MESSAGE", "message", "log"])));
        View {
            journal: payload,
            time: text_time(entry.get("timestamp").or(entry.get("receiveTimestamp"))),
            host: string(resource_label("node_name")).or_else(|| {
                string(
                    entry
                        .get("labels")
                        .and_then(|l| l.get("compute.googleapis.com/resource_name")),
                )
            }),
            program,
            message,
            ..View::default()
        }
    }

    /// A log shipper's record (Fluent Bit, Fluentd, Filebeat, Vector), as
    /// kept in Elasticsearch or OpenSearch or written as ndjson: it needs
    /// a time and a message.
    fn shipper(record: &'r Map<String, Value>) -> Option<View<'r>> {
        let time = text_time(
            record
                .get("@timestamp")
                .or(record.get("time"))
                .or(record.get("timestamp")),
        )
        .or_else(|| match record.get("date") {
            // Fluent Bit's json_date_key: seconds, as a double.
            Some(Value::Number(s)) => s.as_f64().map(|s| (s * 1e6).round() as i64),
            _ => None,
        })
        .or_else(|| {
            journal_field(record, "_SOURCE_REALTIME_TIMESTAMP")?
                .parse()
                .ok()
        })?;
        let message = journal_field(record, "MESSAGE")
            .or_else(|| first_string(record, &["log", "message"]))?;
        let kubernetes = record.get("kubernetes").and_then(Value::as_object);
        let host = first_string(record, &["hostname"])
            .or_else(|| match record.get("host") {
                Some(Value::String(h)) => Some(h.clone()),
                Some(Value::Object(h)) => string(h.get("name").or(h.get("hostname"))),
                _ => None,
            })
            .or_else(|| kubernetes.and_then(|k| string(k.get("host"))));
        let program = first_string(record, &["ident", "syslog_identifier"])
            .or_else(|| kubernetes.and_then(|k| string(k.get("container_name"))));
        Some(View {
            journal: Some(record),
            time: Some(time),
            host,
            program,
            pid: string(record.get("pid")),
            message: Some(message),
            ..View::default()
        })
    }

    /// A message that is a JSON object (Fluent Bit's records as CloudWatch
    /// events) read as its own record; the outer time stays when the inner
    /// record has none.
    fn unwrap_json_message(self, depth: u8) -> Option<View<'r>> {
        let Some(message) = self.message.as_deref() else {
            return Some(self);
        };
        if depth >= MAX_NESTING || !message.trim_start().starts_with('{') {
            return Some(self);
        }
        let Ok(Value::Object(inner)) = serde_json::from_str::<Value>(message) else {
            return Some(self);
        };
        // The inner record is local: its fields are copied out.
        let inner_view = match View::of(&inner, depth + 1) {
            Some(v) => v.owned(),
            None => {
                // A shipper's record without a time of its own (Fluent
                // Bit's CloudWatch output leaves it to the event).
                let Some(time) = self.time.and_then(micros_to_rfc3339) else {
                    return Some(self);
                };
                let mut timed = inner.clone();
                timed.insert("@timestamp".into(), Value::from(time));
                match View::of(&timed, depth + 1) {
                    Some(v) => v.owned(),
                    None => return Some(self),
                }
            }
        };
        Some(View {
            journal: None,
            time: self.time.or(inner_view.time),
            host: inner_view.host.or(self.host),
            program: inner_view.program.or(self.program),
            unit: inner_view.unit.or(self.unit),
            pid: inner_view.pid.or(self.pid),
            message: inner_view.message,
        })
    }

    /// The view with the journal fields it reads copied out,
    /// so that it outlives the object it was read from.
    fn owned(self) -> View<'static> {
        let journal = self.journal;
        let field = |key: &str| journal.and_then(|j| journal_field(j, key));
        View {
            journal: None,
            time: self.time,
            host: field("_HOSTNAME").or(self.host),
            program: field("SYSLOG_IDENTIFIER").or(self.program),
            unit: field("_SYSTEMD_UNIT").or(self.unit),
            pid: field("_PID").or(self.pid),
            message: field("MESSAGE").or(self.message),
        }
    }

    /// The value of a journal field, as the journal mapping asks for it.
    fn get(&self, key: &str) -> Option<String> {
        let journal = || self.journal.and_then(|j| journal_field(j, key));
        match key {
            "__REALTIME_TIMESTAMP" => self.time.map(|t| t.to_string()),
            "MESSAGE" => self.message.clone(),
            "_HOSTNAME" => journal().or_else(|| self.host.clone()),
            "SYSLOG_IDENTIFIER" => journal().or_else(|| self.program.clone()),
            "_SYSTEMD_UNIT" => journal().or_else(|| self.unit.clone()),
            "_PID" => journal().or_else(|| self.pid.clone()),
            _ => journal(),
        }
    }
}

/// A journal field in a shipper's record, under any of the spellings the
/// shippers give it: `_HOSTNAME` as is, `HOSTNAME` (`strip_underscores`),
/// `_hostname` and `hostname`... (`lowercase`), or inside OpenShift's
/// `systemd.t` (trusted fields, without the underscore) and `systemd.u`.
fn journal_field(record: &Map<String, Value>, key: &str) -> Option<String> {
    let bare = key.trim_start_matches('_');
    let spellings = [
        key.to_string(),
        bare.to_string(),
        key.to_ascii_lowercase(),
        bare.to_ascii_lowercase(),
    ];
    spellings
        .iter()
        .find_map(|k| string(record.get(k)))
        .or_else(|| {
            let systemd = record.get("systemd")?;
            let part = if key.starts_with('_') { "t" } else { "u" };
            string(systemd.get(part)?.get(bare))
        })
}

/// A string or number value as text.
fn string(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn first_string(object: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| string(object.get(*k)))
}

/// A time written as text, in microseconds since the epoch: RFC 3339
/// (`2023-05-01T02:48:02.621505552Z`), a date and time in UTC with a space
/// (Logs Insights, `2023-05-01 02:48:02.621`), or the Azure portal's
/// `5/1/2023, 2:48:02.621 AM` (UTC).
pub(super) fn text_time(value: Option<&Value>) -> Option<i64> {
    let text = value?.as_str()?.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.timestamp_micros());
    }
    ["%Y-%m-%d %H:%M:%S%.f", "%m/%d/%Y, %I:%M:%S%.f %p"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .map(|t| t.and_utc().timestamp_micros())
}

fn micros_to_rfc3339(us: i64) -> Option<String> {
    DateTime::from_timestamp_micros(us).map(|t| t.to_rfc3339())
}

/// Frames the message again when it is itself a log line: its host,
/// program, pid and time since boot win; the export's absolute time stays.
fn reframe(outer: Envelope<'static>) -> Envelope<'static> {
    let inner = LINE_FORMATS
        .iter()
        .filter(|f| f.name != UNTIMED_KERNEL && f.name != NAME)
        .find_map(|f| f.parse(&outer.message));
    let Some(inner) = inner else {
        return outer;
    };
    let owned = |c: Option<Cow<'_, [u8]>>| c.map(|c| Cow::Owned(c.into_owned()));
    Envelope {
        stamp: outer.stamp,
        since_boot: inner.since_boot.or(outer.since_boot),
        host: owned(inner.host).or(outer.host.clone()),
        program: owned(inner.program).or(outer.program.clone()),
        pid: inner.pid.or(outer.pid),
        message: Cow::Owned(inner.message.into_owned()),
    }
}

/// This format's name in [`LINE_FORMATS`].
pub(super) const NAME: &str = "cloud-record";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Stamp;

    fn utc(e: &Envelope<'_>) -> String {
        match e.stamp {
            Some(Stamp::Absolute(t)) => t.to_rfc3339(),
            other => panic!("absolute stamp expected, got {other:?}"),
        }
    }

    fn record(json: &str) -> Envelope<'static> {
        let Value::Object(map) = serde_json::from_str(json).unwrap() else {
            panic!("object expected")
        };
        envelope(&map).unwrap()
    }

    #[test]
    fn cloudwatch_event_with_a_syslog_line() {
        let e = record(
            r#"{"logStreamName":"i-0abc","timestamp":1682909282621,"message":"May  1 10:48:02 ecs-prod-003 dockerd: time=\"2023-05-01T10:48:02.621505552+08:00\" level=info msg=\"x\"","ingestionTime":1682909283000,"eventId":"1"}"#,
        );
        assert_eq!(utc(&e), "2023-05-01T02:48:02.621+00:00");
        assert_eq!(e.host.as_deref(), Some(&b"ecs-prod-003"[..]));
        assert_eq!(e.program.as_deref(), Some(&b"dockerd"[..]));
        assert!(e.message.starts_with(b"time=\"2023-05-01T10:48:02"));
    }

    #[test]
    fn cloudwatch_event_with_a_fluent_bit_journal_record() {
        let e = record(
            r#"{"timestamp":1682910217635,"message":"{\"_HOSTNAME\":\"ip-10-0-1-2.ec2.internal\",\"_SYSTEMD_UNIT\":\"kubelet.service\",\"_PID\":\"4568\",\"MESSAGE\":\"E0501 11:03:37.635343    4568 remote_runtime.go:276] x\"}","ingestionTime":1682910218000}"#,
        );
        assert_eq!(e.host.as_deref(), Some(&b"ip-10-0-1-2.ec2.internal"[..]));
        assert_eq!(e.program.as_deref(), Some(&b"kubelet.service"[..]));
        assert_eq!(e.pid, Some(4568));
        assert!(e.message.starts_with(b"E0501 11:03:37.635343"));
        assert_eq!(utc(&e), "2023-05-01T03:03:37.635+00:00");
    }

    #[test]
    fn cloud_logging_entries() {
        let journal = record(
            r#"{"insertId":"a","jsonPayload":{"_HOSTNAME":"gke-pool-1-abcd","SYSLOG_IDENTIFIER":"kubelet","_PID":"1601","MESSAGE":"E0501 x"},"logName":"projects/p/logs/kubelet","resource":{"type":"k8s_node","labels":{"node_name":"gke-pool-1-abcd","project_id":"p"}},"timestamp":"2023-05-01T03:03:37.635343Z","receiveTimestamp":"2023-05-01T03:03:38Z"}"#,
        );
        assert_eq!(journal.host.as_deref(), Some(&b"gke-pool-1-abcd"[..]));
        assert_eq!(journal.program.as_deref(), Some(&b"kubelet"[..]));
        assert_eq!(journal.pid, Some(1601));
        assert_eq!(utc(&journal), "2023-05-01T03:03:37.635343+00:00");
        let text = record(
            r#"{"insertId":"b","textPayload":"shim disconnected","logName":"projects/p/logs/container-runtime","resource":{"type":"k8s_node","labels":{"node_name":"n1"}},"timestamp":"2023-05-01T03:03:37Z"}"#,
        );
        assert_eq!(text.program.as_deref(), Some(&b"container-runtime"[..]));
        assert_eq!(text.message.as_ref(), b"shim disconnected");
    }

    #[test]
    fn azure_loki_and_shipper_records() {
        let azure = record(
            r#"{"TenantId":"t","SourceSystem":"Linux","TimeGenerated":"2023-05-01T02:48:02.621Z","Computer":"aks-node-1","Facility":"daemon","SeverityLevel":"info","SyslogMessage":"shim disconnected","ProcessID":1201,"ProcessName":"containerd","Type":"Syslog"}"#,
        );
        assert_eq!(azure.host.as_deref(), Some(&b"aks-node-1"[..]));
        assert_eq!(azure.program.as_deref(), Some(&b"containerd"[..]));
        assert_eq!(azure.pid, Some(1201));
        let loki = parse(br#"{"labels":{"host":"n1","unit":"containerd.service"},"line":"shim disconnected","timestamp":"2023-05-01T10:48:02.621505552+08:00"}"#).unwrap();
        assert_eq!(utc(&loki), "2023-05-01T02:48:02.621505+00:00");
        assert_eq!(loki.program.as_deref(), Some(&b"containerd.service"[..]));
        let fluentd = parse(br#"{"systemd":{"t":{"HOSTNAME":"worker-0","PID":"900","SYSTEMD_UNIT":"crio.service"},"u":{"SYSLOG_IDENTIFIER":"crio"}},"message":"shim disconnected","@timestamp":"2023-05-01T02:48:02.621Z"}"#).unwrap();
        assert_eq!(fluentd.host.as_deref(), Some(&b"worker-0"[..]));
        assert_eq!(fluentd.program.as_deref(), Some(&b"crio"[..]));
        assert_eq!(fluentd.pid, Some(900));
        let bit = parse(br#"{"date":1682909282.621,"log":"I0501 x\n","kubernetes":{"host":"n2","pod_name":"p","container_name":"kube-proxy"}}"#).unwrap();
        assert_eq!(bit.host.as_deref(), Some(&b"n2"[..]));
        assert_eq!(bit.program.as_deref(), Some(&b"kube-proxy"[..]));
        let lower = parse(br#"{"@timestamp":"2023-05-01T02:48:02Z","hostname":"h","syslog_identifier":"kubelet","message":"x"}"#).unwrap();
        assert_eq!(lower.program.as_deref(), Some(&b"kubelet"[..]));
    }

    #[test]
    fn insights_rows_and_times() {
        let row: Vec<Value> = serde_json::from_str(
            r#"[{"field":"@timestamp","value":"2023-05-01 02:48:02.621"},{"field":"@message","value":"shim disconnected"},{"field":"@ptr","value":"x"}]"#,
        )
        .unwrap();
        let e = envelope(&insights_row(&row).unwrap()).unwrap();
        assert_eq!(utc(&e), "2023-05-01T02:48:02.621+00:00");
        let portal = Value::from("5/1/2023, 2:48:02.621 PM");
        assert_eq!(
            text_time(Some(&portal)),
            Some(1_682_952_482_621_000),
            "12-hour clock, UTC"
        );
    }

    #[test]
    fn near_misses_are_rejected() {
        for line in [
            // journalctl -o json, logrus JSON, a Kubernetes object.
            &br#"{"__REALTIME_TIMESTAMP":"1682910217635343","MESSAGE":"x","message":"y","time":"2023-05-01T02:48:02Z"}"#[..],
            br#"{"level":"info","msg":"shim disconnected","time":"2023-05-01T10:48:54.306078409+08:00"}"#,
            br#"{"kind":"Pod","metadata":{"name":"p"}}"#,
            // A message but no time, a time but no message.
            br#"{"message":"x"}"#,
            br#"{"@timestamp":"2023-05-01T02:48:02Z","level":"info"}"#,
            br#"{"@timestamp":"soon","message":"x"}"#,
            b"{not json",
            b"",
        ] {
            assert!(parse(line).is_none(), "{}", String::from_utf8_lossy(line));
        }
    }
}
