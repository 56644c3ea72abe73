//! [`Format`]: the three encodings, their names, and detection of a format from the bytes.

use std::fmt;
use std::str::FromStr;

/// One of the three encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Format {
    /// JSON (RFC 8259) through `serde_json`; a stream is JSON Lines, one record per line.
    Json,
    /// MessagePack through `rmp-serde`, structs as maps with field names; a stream is records
    /// back to back.
    MessagePack,
    /// The bincode-1 wire format (little-endian, fixed-width integers, `u64` lengths, `u32`
    /// enum tags); a stream is records back to back.
    Bincode,
}

impl Format {
    /// Every format, in the order detection tries them.
    pub const ALL: [Format; 3] = [Format::Json, Format::MessagePack, Format::Bincode];

    /// The canonical name: `json`, `msgpack` or `bincode`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::MessagePack => "msgpack",
            Format::Bincode => "bincode",
        }
    }

    /// The conventional file extension.
    #[must_use]
    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::MessagePack => "msgpack",
            Format::Bincode => "bin",
        }
    }

    /// Whether a record in this format could start with `byte` (after any JSON whitespace).
    /// MessagePack and bincode records can start with nearly any byte, so only JSON narrows
    /// detection much; the decoders decide the rest.
    pub(crate) fn could_start_with(self, byte: u8) -> bool {
        match self {
            Format::Json => matches!(
                byte,
                b'{' | b'[' | b'"' | b'-' | b'0'
                    ..=b'9' | b't' | b'f' | b'n' | b' ' | b'\t' | b'\n' | b'\r'
            ),
            // 0xc1 is the one byte MessagePack never uses.
            Format::MessagePack => byte != 0xc1,
            Format::Bincode => true,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Parses `json`, `msgpack` (or `messagepack`, `mp`) and `bincode` (or `bin`), ignoring case.
impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "json" | "jsonl" => Ok(Format::Json),
            "msgpack" | "messagepack" | "mp" | "mpk" => Ok(Format::MessagePack),
            "bincode" | "bin" => Ok(Format::Bincode),
            _ => Err(format!(
                "unknown format {s:?}: expected json, msgpack or bincode"
            )),
        }
    }
}
