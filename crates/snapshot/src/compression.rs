//! [`Compression`] of rows chunks: none, zstd (the default: about 3-4x on rows at hundreds of
//! MB/s) or lz4 (less compression, several times faster). Decompression never produces more than
//! the chunk header declares, and allocates only as output actually appears, so a small hostile
//! chunk cannot claim a huge buffer.

use std::io::Read;

/// How rows chunks are compressed. Recorded in the file header, so a reader needs no option.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Compression {
    /// Stored as encoded.
    None,
    /// zstd at level 3.
    #[default]
    Zstd,
    /// lz4 frames (`lz4_flex`).
    Lz4,
}

/// The zstd level: 3 is zstd's own default, the knee of its speed/ratio curve.
const ZSTD_LEVEL: i32 = 3;

impl Compression {
    /// Every compression, for tests and benchmarks.
    pub const ALL: [Compression; 3] = [Compression::None, Compression::Zstd, Compression::Lz4];

    pub(crate) fn code(self) -> u8 {
        match self {
            Compression::None => 0,
            Compression::Zstd => 1,
            Compression::Lz4 => 2,
        }
    }

    pub(crate) fn from_code(code: u8) -> Option<Compression> {
        match code {
            0 => Some(Compression::None),
            1 => Some(Compression::Zstd),
            2 => Some(Compression::Lz4),
            _ => None,
        }
    }

    /// Its name, as the CLI spells it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Zstd => "zstd",
            Compression::Lz4 => "lz4",
        }
    }

    /// Compresses `raw` into `out` (cleared first).
    pub(crate) fn compress(self, raw: &[u8], out: &mut Vec<u8>) -> std::io::Result<()> {
        out.clear();
        match self {
            Compression::None => out.extend_from_slice(raw),
            Compression::Zstd => {
                let compressed = zstd::bulk::compress(raw, ZSTD_LEVEL)?;
                out.extend_from_slice(&compressed);
            }
            Compression::Lz4 => {
                let mut encoder = lz4_flex::frame::FrameEncoder::new(std::mem::take(out));
                std::io::Write::write_all(&mut encoder, raw)?;
                *out = encoder.finish().map_err(std::io::Error::other)?;
            }
        }
        Ok(())
    }

    /// Decompresses `stored` into `out` (cleared first), which must come to exactly `raw` bytes.
    pub(crate) fn decompress(
        self,
        stored: &[u8],
        raw: u32,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        out.clear();
        let limit = u64::from(raw) + 1;
        let result = match self {
            Compression::None => {
                out.extend_from_slice(stored);
                Ok(())
            }
            Compression::Zstd => match zstd::stream::read::Decoder::with_buffer(stored) {
                Ok(decoder) => decoder.take(limit).read_to_end(out).map(drop),
                Err(e) => Err(e),
            },
            Compression::Lz4 => lz4_flex::frame::FrameDecoder::new(stored)
                .take(limit)
                .read_to_end(out)
                .map(drop),
        };
        result.map_err(|e| format!("{} data does not decompress: {e}", self.name()))?;
        if out.len() as u64 != u64::from(raw) {
            return Err(format!(
                "{} data decompresses to {}{} bytes where the chunk says {raw}",
                self.name(),
                if out.len() as u64 == limit {
                    "more than "
                } else {
                    ""
                },
                out.len().min(raw as usize)
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_compression_round_trips_and_checks_the_size() {
        let raw: Vec<u8> = (0..10_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        for compression in Compression::ALL {
            let mut stored = Vec::new();
            compression.compress(&raw, &mut stored).unwrap();
            let mut back = Vec::new();
            compression
                .decompress(&stored, raw.len() as u32, &mut back)
                .unwrap();
            assert_eq!(back, raw, "{compression:?}");
            assert!(
                compression
                    .decompress(&stored, raw.len() as u32 - 1, &mut back)
                    .is_err()
            );
            assert!(
                compression
                    .decompress(&stored, raw.len() as u32 + 1, &mut back)
                    .is_err()
            );
        }
    }
}
