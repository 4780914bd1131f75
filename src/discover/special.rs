//! Opening a path the user named that is not a regular file or directory:
//! a fifo (`<(journalctl -u kubelet)`, `mkfifo`) is read as a stream, but
//! never waited on forever; a device is not read.
//!
//! Opening a fifo for reading blocks until a writer opens it, and a run
//! would then hang with nothing said. So a fifo is opened non-blocking and
//! given [`WRITER_WAIT`] for a writer to show (data, or a writer that came
//! and went); a writer that is there but silent (journalctl still seeking
//! through a large journal) is waited for as long as it takes, like
//! standard input. A device is refused: a terminal or `/dev/kmsg` never
//! ends, and a disk is no log.

use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::path::Path;
use std::time::Duration;

/// How long a fifo with no writer is given for one to open it.
pub const WRITER_WAIT: Duration = Duration::from_secs(2);

/// Opens the special file at `path` for reading, or says why it is not read.
pub fn open(path: &Path, meta: &Metadata) -> Result<Box<dyn Read>, String> {
    imp::open(path, meta)
}

#[cfg(unix)]
mod imp {
    use super::*;
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};

    pub fn open(path: &Path, meta: &Metadata) -> Result<Box<dyn Read>, String> {
        let kind = meta.file_type();
        if kind.is_char_device() || kind.is_block_device() {
            return Err(
                "a device, not a log file: not read (a terminal or /dev/kmsg never \
                 ends: save what it holds to a file, or pipe it to `podmortem analyze -`)"
                    .into(),
            );
        }
        if !kind.is_fifo() {
            return Err("a socket or other special file, not a log file: not read".into());
        }
        let file = File::options()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
            .map_err(|e| super::super::open_error(&e))?;
        let first = wait_for_writer(&file)?;
        blocking(&file).map_err(|e| format!("cannot read the fifo: {e}"))?;
        Ok(Box::new(io::Cursor::new(first).chain(file)))
    }

    /// Waits up to [`WRITER_WAIT`] for a writer; returns what was read to
    /// find out (at most one byte), or why the fifo is not read.
    fn wait_for_writer(file: &File) -> Result<Vec<u8>, String> {
        let mut poll = libc::pollfd {
            fd: file.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let wait_ms = libc::c_int::try_from(WRITER_WAIT.as_millis()).unwrap_or(libc::c_int::MAX);
        // SAFETY: `poll` is one valid pollfd that outlives the call, and
        // its descriptor is open (owned by `file`).
        let ready = unsafe { libc::poll(&mut poll, 1, wait_ms) };
        if ready > 0 {
            // Data, or a writer that came and went: read it as a stream.
            return Ok(Vec::new());
        }
        // Nothing within the wait (or poll was interrupted): a writer that
        // is there but silent makes a read say "would block"; with no
        // writer the read says end of file.
        let mut byte = [0u8; 1];
        match (&*file).read(&mut byte) {
            Ok(0) => Err(format!(
                "a fifo with no writer: nothing to read (waited {} s for a writer; \
                 start the writer first, or pipe it to `podmortem analyze -`)",
                WRITER_WAIT.as_secs()
            )),
            Ok(_) => Ok(byte.to_vec()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(Vec::new()),
            Err(e) => Err(format!("cannot read the fifo: {e}")),
        }
    }

    /// Makes reads of `file` wait for data again.
    fn blocking(file: &File) -> io::Result<()> {
        let fd = file.as_raw_fd();
        // SAFETY: F_GETFL and F_SETFL on a descriptor owned by `file`;
        // neither touches memory.
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
        if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

#[cfg(not(unix))]
mod imp {
    use super::*;

    pub fn open(path: &Path, _meta: &Metadata) -> Result<Box<dyn Read>, String> {
        match File::open(path) {
            Ok(file) => Ok(Box::new(file)),
            Err(e) => Err(super::super::open_error(&e)),
        }
    }
}
