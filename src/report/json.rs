//! The JSON printer: the report model, serialized as documented in
//! [`super`].

use std::io::{self, Write};

use super::Report;

pub fn print(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}

/// `podmortem inputs --format json`: the inputs and errors of the report.
pub fn print_inputs(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut view = serde_json::json!({
        "schema_version": report.schema_version,
        "inputs": report.inputs,
        "errors": report.errors,
    });
    if !report.listings.is_empty() {
        view["listings"] = serde_json::json!(report.listings);
    }
    serde_json::to_writer_pretty(&mut *out, &view)?;
    writeln!(out)
}
