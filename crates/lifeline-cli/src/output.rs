//! Writing to standard output (or a file) with errors that name what was being written.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use serde::Serialize;

use crate::CliError;

/// A buffered destination: standard output or a file.
pub struct Sink {
    out: Box<dyn Write>,
    what: String,
}

impl Sink {
    pub fn stdout() -> Sink {
        Sink {
            out: Box::new(BufWriter::new(std::io::stdout().lock())),
            what: "standard output".into(),
        }
    }

    pub fn to(path: Option<&Path>) -> Result<Sink, CliError> {
        match path {
            None => Ok(Sink::stdout()),
            Some(p) => {
                let f = File::create(p).map_err(|e| CliError::Write {
                    what: p.display().to_string(),
                    source: e,
                })?;
                Ok(Sink {
                    out: Box::new(BufWriter::new(f)),
                    what: p.display().to_string(),
                })
            }
        }
    }

    fn err(&self, e: std::io::Error) -> CliError {
        CliError::Write {
            what: self.what.clone(),
            source: e,
        }
    }

    pub fn write_str(&mut self, s: &str) -> Result<(), CliError> {
        self.out.write_all(s.as_bytes()).map_err(|e| self.err(e))
    }

    pub fn line(&mut self, s: &str) -> Result<(), CliError> {
        self.write_str(s)?;
        self.write_str("\n")
    }

    pub fn json<T: Serialize>(&mut self, value: &T) -> Result<(), CliError> {
        let text = serde_json::to_string(value).map_err(|e| CliError::Write {
            what: self.what.clone(),
            source: e.into(),
        })?;
        self.write_str(&text)
    }

    pub fn raw(&mut self) -> &mut dyn Write {
        &mut self.out
    }

    pub fn finish(mut self) -> Result<(), CliError> {
        self.out.flush().map_err(|e| self.err(e))
    }
}

/// Prints a value as pretty JSON followed by a newline.
pub fn print_json<T: Serialize>(value: &T) -> Result<(), CliError> {
    let mut sink = Sink::stdout();
    let text = serde_json::to_string_pretty(value).map_err(|e| CliError::Write {
        what: "standard output".into(),
        source: e.into(),
    })?;
    sink.line(&text)?;
    sink.finish()
}
