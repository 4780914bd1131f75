//! The JSON printer: the report model, serialized as documented in
//! [`super`].

use std::io::{self, Write};

use super::Report;

pub fn print(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}
