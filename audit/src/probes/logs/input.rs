//! Reading an uploaded file as lines, whatever its bytes: gzip is recognised by its magic bytes
//! and decompressed as a stream with a cap on the decompressed size (a gzip bomb stops at the
//! cap and is reported), lines are split on `\n` with a cap on the bytes kept per line (a
//! "line" of a gigabyte keeps only its start), and nothing here ever fails the whole run: a read
//! error ends the file and says why.
use std::io::{self, BufRead, BufReader, Read};

use flate2::read::MultiGzDecoder;

/// Bytes kept of one line. Real access-log lines are well under 16 KiB (nginx's largest request
/// header buffer is 8 KiB by default); a PostgreSQL statement on one line may be longer, and is
/// then read from its first 64 KiB, which is plenty to group it.
pub(crate) const MAX_LINE_BYTES: usize = 64 * 1024;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

pub(crate) fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&GZIP_MAGIC)
}

/// Names another compressed or binary container we do not read, so the report can say
/// "upload it as plain text or gzip" instead of only "unrecognised".
pub(crate) fn other_container(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"PK\x03\x04") {
        Some("a zip archive")
    } else if bytes.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some("zstd-compressed")
    } else if bytes.starts_with(b"BZh") {
        Some("bzip2-compressed")
    } else if bytes.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        Some("xz-compressed")
    } else {
        None
    }
}

/// A gzip stream over the uploaded bytes, decompressed lazily, stopping with an error once more
/// than `remaining` bytes came out. `limit` is the run's whole budget, for the message.
pub(crate) fn gunzip(
    bytes: &[u8],
    remaining: u64,
    limit: u64,
) -> BufReader<Capped<MultiGzDecoder<&[u8]>>> {
    BufReader::with_capacity(
        64 * 1024,
        Capped {
            inner: MultiGzDecoder::new(bytes),
            remaining,
            limit,
        },
    )
}

/// Passes bytes through until `remaining` of them were read; if the stream has more, the next
/// read fails, so the line reader stops and reports it rather than silently losing the rest.
pub(crate) struct Capped<R> {
    inner: R,
    remaining: u64,
    limit: u64,
}

impl<R> Capped<R> {
    /// What is left of the budget after this stream.
    pub(crate) fn remaining(&self) -> u64 {
        self.remaining
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.remaining == 0 {
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::other(format!(
                    "the decompressed size limit of {} (for all files of the run) was \
                     reached; the rest of this file was not read",
                    human_bytes(self.limit)
                ))),
            };
        }
        let want = buf
            .len()
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.remaining = self.remaining.saturating_sub(n as u64);
        Ok(n)
    }
}

pub(crate) fn human_bytes(n: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else if n >= 1024 && n.is_multiple_of(1024) {
        format!("{} KiB", n / 1024)
    } else {
        format!("{n} bytes")
    }
}

/// One line as read: its 1-based number in the file, its first `MAX_LINE_BYTES` bytes (without
/// the `\n` and a trailing `\r`), and whether more was cut off.
pub(crate) struct RawLine<'a> {
    pub number: u64,
    pub bytes: &'a [u8],
    pub too_long: bool,
}

pub(crate) struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    number: u64,
    /// Why reading stopped early (corrupt gzip, size cap), once it has.
    error: Option<String>,
}

impl<R: BufRead> LineReader<R> {
    pub(crate) fn new(inner: R) -> LineReader<R> {
        LineReader {
            inner,
            buf: Vec::new(),
            number: 0,
            error: None,
        }
    }

    /// The next line, or None at the end of the file or after a read error (see `error`). A
    /// line cut short by a read error is dropped: it would only be counted as malformed.
    pub(crate) fn next_line(&mut self) -> Option<RawLine<'_>> {
        if self.error.is_some() {
            return None;
        }
        self.buf.clear();
        let mut too_long = false;
        let mut saw_bytes = false;
        loop {
            let available = match self.inner.fill_buf() {
                Ok(available) => available,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.error = Some(e.to_string());
                    return None;
                }
            };
            if available.is_empty() {
                if !saw_bytes {
                    return None;
                }
                break;
            }
            saw_bytes = true;
            let (chunk, consumed, ended) = match available.iter().position(|&b| b == b'\n') {
                Some(i) => (&available[..i], i + 1, true),
                None => (available, available.len(), false),
            };
            let room = MAX_LINE_BYTES.saturating_sub(self.buf.len());
            if chunk.len() > room {
                too_long = true;
                self.buf.extend_from_slice(&chunk[..room]);
            } else {
                self.buf.extend_from_slice(chunk);
            }
            self.inner.consume(consumed);
            if ended {
                break;
            }
        }
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        self.number += 1;
        Some(RawLine {
            number: self.number,
            bytes: &self.buf,
            too_long,
        })
    }

    pub(crate) fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn lines(bytes: &[u8]) -> Vec<(u64, Vec<u8>, bool)> {
        let mut reader = LineReader::new(bytes);
        let mut out = Vec::new();
        while let Some(line) = reader.next_line() {
            out.push((line.number, line.bytes.to_vec(), line.too_long));
        }
        out
    }

    #[test]
    fn splits_on_newlines_and_strips_carriage_returns() {
        let got = lines(b"a\r\nb\n\nc");
        assert_eq!(
            got,
            vec![
                (1, b"a".to_vec(), false),
                (2, b"b".to_vec(), false),
                (3, b"".to_vec(), false),
                (4, b"c".to_vec(), false)
            ]
        );
    }

    #[test]
    fn cuts_huge_lines() {
        let mut bytes = vec![b'x'; MAX_LINE_BYTES * 3];
        bytes.extend_from_slice(b"\nshort\n");
        let got = lines(&bytes);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].1.len(), MAX_LINE_BYTES);
        assert!(got[0].2);
        assert_eq!(got[1], (2, b"short".to_vec(), false));
    }
}
