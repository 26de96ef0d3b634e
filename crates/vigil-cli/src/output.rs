//! Where command output goes: stdout or a file, shared by worker threads.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;

/// A writer several threads hand whole blocks to. After the first write error (a closed
/// pipe: `vigil parse | head`), it refuses further writes so workers can stop early.
pub(crate) struct SharedOutput {
    inner: Mutex<BufWriter<Box<dyn Write + Send>>>,
    failed: AtomicBool,
    error: Mutex<Option<io::Error>>,
}

impl SharedOutput {
    /// Writes to `path`, or to stdout when there is none.
    pub(crate) fn create(path: Option<&Path>) -> anyhow::Result<Self> {
        let sink: Box<dyn Write + Send> = match path {
            Some(path) => Box::new(
                File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
            ),
            None => Box::new(io::stdout()),
        };
        Ok(SharedOutput {
            inner: Mutex::new(BufWriter::with_capacity(128 << 10, sink)),
            failed: AtomicBool::new(false),
            error: Mutex::new(None),
        })
    }

    /// Whether writing has failed (the reader of the output has gone away).
    pub(crate) fn is_closed(&self) -> bool {
        self.failed.load(Ordering::Relaxed)
    }

    /// Writes `block` whole, so blocks of different threads never interleave.
    pub(crate) fn write_block(&self, block: &[u8]) -> bool {
        if block.is_empty() {
            return !self.is_closed();
        }
        if self.is_closed() {
            return false;
        }
        let result = match self.inner.lock() {
            Ok(mut out) => out.write_all(block),
            Err(_) => Err(io::Error::other("output lock poisoned")),
        };
        self.record(result)
    }

    fn record(&self, result: io::Result<()>) -> bool {
        match result {
            Ok(()) => true,
            Err(e) => {
                self.failed.store(true, Ordering::Relaxed);
                if let Ok(mut slot) = self.error.lock() {
                    slot.get_or_insert(e);
                }
                false
            }
        }
    }

    /// Flushes and returns the first write error, if any.
    pub(crate) fn finish(self) -> io::Result<()> {
        let flushed = match self.inner.into_inner() {
            Ok(mut out) => out.flush(),
            Err(_) => Err(io::Error::other("output lock poisoned")),
        };
        if let Some(e) = self.error.into_inner().ok().flatten() {
            return Err(e);
        }
        flushed
    }
}

/// Writes a line to stderr. A closed stderr (`vigil ... 2>&1 | head`) is not an error worth
/// dying for: the line is dropped.
pub(crate) fn say_line(line: std::fmt::Arguments<'_>) {
    let mut err = io::stderr().lock();
    let _ = err.write_fmt(line);
    let _ = err.write_all(b"\n");
}

/// `eprintln!` that never panics: see [`say_line`].
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::output::say_line(format_args!($($arg)*))
    };
}
pub(crate) use say;

/// Flushes `out`; a closed pipe is not an error (the reader took what it wanted).
pub(crate) fn finish_quietly(out: SharedOutput) -> io::Result<()> {
    match out.finish() {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Whether `error` is a write to a closed pipe, which ends the command quietly.
pub(crate) fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .chain()
        .filter_map(|e| e.downcast_ref::<io::Error>())
        .any(|e| e.kind() == io::ErrorKind::BrokenPipe)
}

/// Formats a count with thousands separators: `12,345`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
