//! [`Scanner`]: reads one segment file frame by frame through a bounded read-ahead buffer,
//! verifying each frame, and searches past damage for the next valid frame. Shared by recovery and
//! by readers, so that both judge the bytes the same way.
//!
//! Nothing read is trusted: a length is checked against the record limit and the bytes left in the
//! file before anything is allocated, and memory stays O(read-ahead + largest record).

use std::path::{Path, PathBuf};

use tabula_core::Lsn;

use crate::format::{FRAME_HEADER_LEN, FrameHeader, SEGMENT_HEADER_LEN, SegmentHeader};
use crate::{Error, Result};
use tabula_storage::{DamageKind, Storage, StorageFile, read_full};

/// How much the scanner reads at once.
const READ_AHEAD: usize = 256 << 10;

/// Bytes the searches past damage may checksum, per byte of the file, plus a floor.
const SEARCH_BUDGET_PER_BYTE: u64 = 4;
const SEARCH_BUDGET_MIN: u64 = 1 << 20;

/// One step through a segment.
#[derive(Debug)]
pub(crate) enum Step {
    /// The end of the segment, exactly at a frame boundary.
    End,
    /// A frame whose checksum holds; its payload is [`Scanner::last_payload`].
    Frame { offset: u64, header: FrameHeader },
    /// The bytes at `offset` are not a valid frame.
    Damage { offset: u64, kind: DamageKind },
}

/// A segment file being read.
#[derive(Debug)]
pub(crate) struct Scanner {
    file: Box<dyn StorageFile>,
    path: PathBuf,
    len: u64,
    pos: u64,
    buf: Vec<u8>,
    buf_at: u64,
    search_budget: u64,
    /// Where the payload of the last valid frame is in `buf`.
    last_payload: (usize, usize),
}

impl Scanner {
    /// Opens a segment, reads its length, and leaves the position after the header.
    /// Frames are read up to the format's own limit, not `max_record_size`, which applies to
    /// writes: lowering it must never turn records already written into damage.
    pub(crate) fn open(storage: &dyn Storage, path: &Path) -> Result<Scanner> {
        let file = storage
            .open(path, false)
            .map_err(|e| Error::io("open", path, e))?;
        let len = file
            .len()
            .map_err(|e| Error::io("read the length of", path, e))?;
        Ok(Scanner {
            file,
            path: path.to_path_buf(),
            len,
            pos: SEGMENT_HEADER_LEN as u64,
            buf: Vec::new(),
            buf_at: 0,
            last_payload: (0, 0),
            search_budget: len
                .saturating_mul(SEARCH_BUDGET_PER_BYTE)
                .saturating_add(SEARCH_BUDGET_MIN),
        })
    }

    /// The payload of the frame [`Scanner::next_frame`] last returned.
    pub(crate) fn last_payload(&self) -> &[u8] {
        let (at, len) = self.last_payload;
        self.buf.get(at..at.saturating_add(len)).unwrap_or_default()
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Reads and checks the segment header.
    pub(crate) fn header(&mut self) -> Result<Result<SegmentHeader, DamageKind>> {
        let bytes = self.bytes(0, SEGMENT_HEADER_LEN)?.unwrap_or_default();
        Ok(SegmentHeader::decode(bytes))
    }

    /// Moves to `offset` (a frame boundary found by [`Scanner::find_valid`]).
    pub(crate) fn seek(&mut self, offset: u64) {
        self.pos = offset;
    }

    /// The bytes `at..at + n`, or `None` if the file ends before them.
    fn bytes(&mut self, at: u64, n: usize) -> Result<Option<&[u8]>> {
        let end = at.saturating_add(n as u64);
        if end > self.len {
            return Ok(None);
        }
        let buffered_end = self.buf_at + self.buf.len() as u64;
        if at < self.buf_at || end > buffered_end {
            let want = n
                .max(READ_AHEAD)
                .min(usize::try_from(self.len - at).unwrap_or(usize::MAX));
            self.buf.clear();
            self.buf.resize(want, 0);
            let got = read_full(&*self.file, at, &mut self.buf)
                .map_err(|e| Error::io("read", &self.path, e))?;
            self.buf.truncate(got);
            self.buf_at = at;
            if got < n {
                // The file shrank under us; treat what is missing as absent.
                return Ok(None);
            }
        }
        let from = usize::try_from(at - self.buf_at).unwrap_or(usize::MAX);
        Ok(self.buf.get(from..from.saturating_add(n)))
    }

    /// Reads the frame at the current position and moves past it if it is valid.
    pub(crate) fn next_frame(&mut self) -> Result<Step> {
        let offset = self.pos;
        let left = self.len.saturating_sub(offset);
        if left == 0 {
            return Ok(Step::End);
        }
        let Some(header) = self
            .bytes(offset, FRAME_HEADER_LEN)?
            .and_then(FrameHeader::read)
        else {
            return Ok(Step::Damage {
                offset,
                kind: DamageKind::Truncated {
                    what: "frame header",
                    needed: FRAME_HEADER_LEN as u64,
                    available: left,
                },
            });
        };
        if header.frame_len() > left {
            return Ok(Step::Damage {
                offset,
                kind: DamageKind::Truncated {
                    what: "frame",
                    needed: header.frame_len(),
                    available: left,
                },
            });
        }
        let payload_at = offset + FRAME_HEADER_LEN as u64;
        let len = header.len as usize;
        let computed = self
            .bytes(payload_at, len)?
            .map(|payload| header.checksum_of(payload));
        if computed != Some(header.crc) {
            return Ok(Step::Damage {
                offset,
                kind: DamageKind::Checksum {
                    what: "frame",
                    stored: header.crc,
                    computed: computed.unwrap_or_default(),
                },
            });
        }
        self.pos = offset + header.frame_len();
        // The checksum check above left the payload in the buffer.
        self.last_payload = (
            usize::try_from(payload_at - self.buf_at).unwrap_or(usize::MAX),
            len,
        );
        Ok(Step::Frame { offset, header })
    }

    /// The valid frame at `at`, if there is one (checksum included).
    fn valid_frame_at(&mut self, at: u64) -> Result<Option<FrameHeader>> {
        let left = self.len.saturating_sub(at);
        let Some(header) = self
            .bytes(at, FRAME_HEADER_LEN)?
            .and_then(FrameHeader::read)
        else {
            return Ok(None);
        };
        if header.frame_len() > left || header.synced >= header.lsn {
            return Ok(None);
        }
        let payload_at = at + FRAME_HEADER_LEN as u64;
        let valid = self
            .bytes(payload_at, header.len as usize)?
            .is_some_and(|payload| header.checks(payload));
        Ok(valid.then_some(header))
    }

    /// The first offset at or after `from` holding a valid frame with an LSN of at least
    /// `min_lsn`, the LSN of the damaged frame at `damage_at`. A candidate must be plausible
    /// before its checksum is computed: its LSN no further ahead than the bytes since the damage
    /// could hold, its `synced` below its LSN. The checksummed bytes are capped per scanner (a
    /// file crafted with a plausible header every few bytes would otherwise cost quadratic time);
    /// past the cap the answer is [`Found::Exhausted`].
    pub(crate) fn find_valid(&mut self, damage_at: u64, from: u64, min_lsn: Lsn) -> Result<Found> {
        let mut at = from;
        while at.saturating_add(FRAME_HEADER_LEN as u64) <= self.len {
            let left = self.len - at;
            if let Some(header) = self
                .bytes(at, FRAME_HEADER_LEN)?
                .and_then(FrameHeader::read)
            {
                // Every frame takes at least a header's bytes, so a frame this far past the
                // damage cannot be more records ahead than fit between.
                let distance = at.saturating_sub(damage_at) / FRAME_HEADER_LEN as u64;
                let max_lsn = min_lsn.0.saturating_add(distance + 1);
                let plausible = header.lsn >= min_lsn
                    && header.lsn.0 <= max_lsn
                    && header.synced < header.lsn
                    && header.frame_len() <= left;
                if plausible {
                    let Some(budget) = self.search_budget.checked_sub(u64::from(header.len)) else {
                        return Ok(Found::Exhausted);
                    };
                    self.search_budget = budget;
                    let payload_at = at + FRAME_HEADER_LEN as u64;
                    if self
                        .bytes(payload_at, header.len as usize)?
                        .is_some_and(|payload| header.checks(payload))
                    {
                        return Ok(Found::Frame(at, header));
                    }
                }
            }
            at += 1;
        }
        Ok(Found::Nothing)
    }

    /// Whether a valid frame after the damage at `damage_at` proves that the record `expected`
    /// had reached stable storage before that frame was written (its `synced` is at least
    /// `expected`). Such a frame means the damage is not a torn write but corruption of synced
    /// data. Valid frames are followed one after another (a frame's payload is not searched for
    /// frames); the byte-by-byte search resumes only after further damage.
    pub(crate) fn proves_durable(&mut self, damage_at: u64, expected: Lsn) -> Result<Proof> {
        let mut at = damage_at + 1;
        loop {
            let (mut offset, mut header) = match self.find_valid(damage_at, at, expected)? {
                Found::Frame(offset, header) => (offset, header),
                Found::Nothing => return Ok(Proof::None),
                Found::Exhausted => return Ok(Proof::Unknown),
            };
            loop {
                if header.synced >= expected {
                    return Ok(Proof::At(offset));
                }
                let next = offset + header.frame_len();
                match self.valid_frame_at(next)? {
                    Some(following) if following.lsn == header.lsn.next() => {
                        offset = next;
                        header = following;
                    }
                    _ => {
                        at = next;
                        break;
                    }
                }
            }
        }
    }
}

/// What a search past damage found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Found {
    /// A valid frame at this offset.
    Frame(u64, FrameHeader),
    /// No valid frame up to the end of the file.
    Nothing,
    /// The search checksummed as many bytes as it may; the rest was not searched.
    Exhausted,
}

/// Whether the damaged record is known to have been synced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Proof {
    /// The valid frame at this offset says it was.
    At(u64),
    /// No valid frame after it says so.
    None,
    /// The search gave up (a hostile file); treated as if it had been synced, so that nothing
    /// is truncated on a guess.
    Unknown,
}
