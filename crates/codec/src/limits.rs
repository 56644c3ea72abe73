//! [`CodecLimits`]: the bounds every decoder enforces on untrusted bytes, and every encoder on
//! what it writes, so that whatever is written can be read back.

/// The largest [`CodecLimits::max_depth`]. JSON's parser stops at 128 levels; escapes can double
/// a value's nesting (`{"$map": {…}}` around each map) and a record's structure adds up to 7.
pub const MAX_DEPTH: usize = 60;

/// Bounds on what a decoder accepts, checked as bytes are read, before anything is allocated
/// for them. Every format enforces all three. Encoders check the same depth and record size, so
/// what one codec writes another reads.
///
/// Depth is counted as [`tabula_core::Measure`] counts it, per value: a scalar is 1, `[1]` is 2,
/// a row of scalars is 2. The fixed structure around values (a transaction, its op) does not
/// count.
///
/// Allocation is also bounded by the input itself: a length prefix is never trusted further than
/// the bytes actually present (a slice) or actually read so far (a stream), so no single
/// allocation is more than a small multiple of the input. The whole decoded record is bounded by
/// [`CodecLimits::max_memory`]: a map of one entry is three bytes of MessagePack but a B-tree
/// node of about 640 bytes in memory, so the decoders charge an estimate of each record's heap
/// ([`MAP_COST`] per non-empty map, [`ENTRY_COST`] per map entry, [`ELEMENT_COST`] per list
/// element, plus its bytes) as they read, and refuse the record once it passes the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CodecLimits {
    /// Maximum encoded size of one record in bytes. Default 64 MiB.
    pub max_record_size: usize,
    /// Maximum depth of a value or row within a record. Default 48, half again `tabula-core`'s
    /// default of 32. At most [`MAX_DEPTH`].
    pub max_depth: usize,
    /// Maximum number of elements in one collection: list elements or map entries (text and
    /// bytes are bounded by the record size). Default 16 Mi, at least [`MIN_COLLECTION_LEN`]:
    /// in JSON and MessagePack a struct's fields count too (a column has five), and a record
    /// decoded under a limit must re-encode under it.
    pub max_collection_len: usize,
    /// Maximum estimated heap of one decoded record, in bytes (see above). Default 1 GiB.
    pub max_memory: usize,
}

/// The smallest [`CodecLimits::max_collection_len`]: above the field count of every struct.
pub const MIN_COLLECTION_LEN: usize = 16;

/// Estimated heap cost of a non-empty map: one B-tree leaf node of `String` keys and `Value`s.
pub const MAP_COST: u64 = 640;
/// Estimated heap cost of one map entry beyond its node share: its key's `String` header.
pub const ENTRY_COST: u64 = 64;
/// Estimated heap cost of one list element: a `Value`.
pub const ELEMENT_COST: u64 = 32;

impl Default for CodecLimits {
    fn default() -> Self {
        CodecLimits {
            max_record_size: 64 << 20,
            max_depth: 48,
            max_collection_len: 16 << 20,
            max_memory: 1 << 30,
        }
    }
}

impl CodecLimits {
    /// These limits with `max_depth` at most [`MAX_DEPTH`] and `max_collection_len` at least
    /// [`MIN_COLLECTION_LEN`]. Every decoder and encoder uses the limits through this, so setting
    /// the public fields out of range cannot deepen recursion or refuse a struct's own fields.
    #[must_use]
    pub fn clamped(mut self) -> Self {
        self.max_depth = self.max_depth.min(MAX_DEPTH);
        self.max_collection_len = self.max_collection_len.max(MIN_COLLECTION_LEN);
        self
    }

    /// These limits with another maximum estimated heap per record.
    #[must_use]
    pub fn with_max_memory(mut self, bytes: usize) -> Self {
        self.max_memory = bytes;
        self
    }

    /// These limits with another maximum record size.
    #[must_use]
    pub fn with_max_record_size(mut self, bytes: usize) -> Self {
        self.max_record_size = bytes;
        self
    }

    /// These limits with another maximum depth (at most [`MAX_DEPTH`]).
    #[must_use]
    pub fn with_max_depth(mut self, depth: usize) -> Self {
        self.max_depth = depth.min(MAX_DEPTH);
        self
    }

    /// These limits with another maximum collection length (at least [`MIN_COLLECTION_LEN`]).
    #[must_use]
    pub fn with_max_collection_len(mut self, len: usize) -> Self {
        self.max_collection_len = len;
        self
    }
}
