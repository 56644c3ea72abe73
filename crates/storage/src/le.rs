//! Little-endian fields at fixed offsets in a byte buffer, for the file headers of the log and
//! the snapshots. Reads of bytes that are not there give 0 and writes outside the buffer do
//! nothing: callers check lengths first and never index a buffer read from disk.

/// Copies `bytes` into `out` at `at`.
pub fn put(out: &mut [u8], at: usize, bytes: &[u8]) {
    if let Some(slot) = out.get_mut(at..at.saturating_add(bytes.len())) {
        slot.copy_from_slice(bytes);
    }
}

/// The byte at `at`.
#[must_use]
pub fn u8_at(bytes: &[u8], at: usize) -> u8 {
    bytes.get(at).copied().unwrap_or(0)
}

/// The little-endian `u16` at `at`.
#[must_use]
pub fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(array(bytes, at))
}

/// The little-endian `u32` at `at`.
#[must_use]
pub fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(array(bytes, at))
}

/// The little-endian `u64` at `at`.
#[must_use]
pub fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(array(bytes, at))
}

/// The little-endian `i64` at `at`.
#[must_use]
pub fn i64_at(bytes: &[u8], at: usize) -> i64 {
    i64::from_le_bytes(array(bytes, at))
}

fn array<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    let mut word = [0u8; N];
    if let Some(slice) = bytes.get(at..at.saturating_add(N)) {
        word.copy_from_slice(slice);
    }
    word
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip_and_missing_bytes_read_as_zero() {
        let mut buf = [0u8; 16];
        put(&mut buf, 2, &0xdead_beef_u32.to_le_bytes());
        put(&mut buf, 8, &(-5i64).to_le_bytes());
        assert_eq!(u32_at(&buf, 2), 0xdead_beef);
        assert_eq!(i64_at(&buf, 8), -5);
        assert_eq!(u64_at(&buf, 12), 0, "past the end");
        put(&mut buf, 15, &[1, 2]);
        assert_eq!(u8_at(&buf, 15), 0xff, "a write past the end does nothing");
    }
}
