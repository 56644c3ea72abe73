//! [`StoredKey`]: a value as the ordered maps store it (a table's primary keys, and the values
//! and primary keys of its secondary indexes): integers and short text inline, so that the tree
//! nodes compare and copy them without following a pointer; any other value shared.

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use crate::row::{KeyView, RowRef};
use crate::value::Value;

/// A key as the row map and the secondary indexes store it (a primary key, or an indexed value
/// and the primary key of its row). Integers and text of up to [`SHORT_KEY`] bytes (every
/// key of the benchmarks; most ids, codes and slugs) sit inline in the tree node, so a lookup
/// compares them without following a pointer, and a node copied on write copies them without
/// touching reference counts. Any other key is shared (`Arc`): copying a tree node on write then
/// bumps reference counts instead of copying key strings (every commit copies the nodes it
/// changes, and a node holds 64 entries).
///
/// It orders and compares exactly as the [`Value`] it stands for (so `Int(1)` and `Float(1.0)`
/// are one key). Each value has one representation ([`StoredKey::new`]): an `Int` is always
/// `Int`, text that fits is always `Short`.
#[derive(Clone)]
pub(crate) enum StoredKey {
    /// `Null`: never a primary key, the smallest value of a secondary index.
    Null,
    Int(i64),
    /// The text's bytes, zero-padded to [`SHORT_KEY`], as big-endian words: comparing the words,
    /// then the lengths, orders exactly as comparing the texts (a shorter text that the longer
    /// one starts with sorts first, as the zero padding and then the length make it).
    Short {
        words: [u64; SHORT_WORDS],
        len: u8,
    },
    Other(Arc<Value>),
}

/// The words of a short key.
const SHORT_WORDS: usize = 3;

/// The longest text key held inline.
pub(crate) const SHORT_KEY: usize = 24;

impl StoredKey {
    /// The stored form of `key`.
    pub(crate) fn new(key: Value) -> StoredKey {
        match key {
            Value::Null => StoredKey::Null,
            Value::Int(i) => StoredKey::Int(i),
            Value::Text(text) if text.len() <= SHORT_KEY => StoredKey::short(&text),
            other => StoredKey::Other(Arc::new(other)),
        }
    }

    /// The stored form of `key`, to look it up: free for integers and short text; other keys
    /// are copied.
    pub(crate) fn probe(key: &Value) -> StoredKey {
        match key {
            Value::Null => StoredKey::Null,
            Value::Int(i) => StoredKey::Int(*i),
            Value::Text(text) if text.len() <= SHORT_KEY => StoredKey::short(text),
            other => StoredKey::Other(Arc::new(other.clone())),
        }
    }

    /// The value this key stands for, in the representation it was stored with.
    pub(crate) fn to_value(&self) -> Value {
        match self {
            StoredKey::Null => Value::Null,
            StoredKey::Int(i) => Value::Int(*i),
            StoredKey::Short { words, len } => {
                StoredKey::with_short_str(words, *len, |s| Value::Text(s.to_owned()))
            }
            StoredKey::Other(v) => Value::clone(v),
        }
    }

    pub(crate) fn short(text: &str) -> StoredKey {
        let mut bytes = [0u8; SHORT_KEY];
        let len = text.len().min(SHORT_KEY);
        if let (Some(to), Some(from)) = (bytes.get_mut(..len), text.as_bytes().get(..len)) {
            to.copy_from_slice(from);
        }
        let mut words = [0u64; SHORT_WORDS];
        for (word, chunk) in words.iter_mut().zip(bytes.chunks_exact(8)) {
            *word = u64::from_be_bytes(chunk.try_into().unwrap_or_default());
        }
        #[expect(clippy::cast_possible_truncation, reason = "at most SHORT_KEY (24)")]
        StoredKey::Short {
            words,
            len: len as u8,
        }
    }

    /// Runs `f` on the text of a `Short` key (UTF-8: it was copied whole from a `str`).
    pub(crate) fn with_short_str<R>(
        words: &[u64; SHORT_WORDS],
        len: u8,
        f: impl FnOnce(&str) -> R,
    ) -> R {
        let mut bytes = [0u8; SHORT_KEY];
        for (chunk, word) in bytes.chunks_exact_mut(8).zip(words) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        let text = bytes.get(..usize::from(len)).unwrap_or_default();
        f(std::str::from_utf8(text).unwrap_or_default())
    }

    /// Whether `row`'s key (packed in front of it) is this key, read without allocating for
    /// integers and text.
    pub(crate) fn is_key_of(&self, row: &RowRef) -> bool {
        match (self, row.key_view()) {
            (StoredKey::Int(a), Some(KeyView::Int(b))) => *a == b,
            (StoredKey::Short { words, len }, Some(KeyView::Text(t))) => {
                usize::from(*len) == t.len() && StoredKey::with_short_str(words, *len, |s| s == t)
            }
            (StoredKey::Other(v), Some(KeyView::Text(t))) => v.as_str() == Some(t),
            (StoredKey::Other(v), Some(KeyView::Int(b))) => **v == Value::Int(b),
            (StoredKey::Int(_), Some(KeyView::Text(_)))
            | (StoredKey::Short { .. }, Some(KeyView::Int(_)))
            | (StoredKey::Null, Some(KeyView::Int(_) | KeyView::Text(_)))
            | (_, None) => false,
            (_, Some(KeyView::Other(v))) => *self == StoredKey::probe(&v),
        }
    }

    /// Bytes it owns on the heap: nothing, unless it is shared (`Other`).
    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
            StoredKey::Other(v) => 2 * size_of::<usize>() + size_of::<Value>() + v.heap_bytes(),
            _ => 0,
        }
    }

    pub(crate) fn class(&self) -> crate::value::TypeClass {
        match self {
            StoredKey::Null => crate::value::TypeClass::Null,
            StoredKey::Int(_) => crate::value::TypeClass::Number,
            StoredKey::Short { .. } => crate::value::TypeClass::Text,
            StoredKey::Other(v) => v.class(),
        }
    }

    /// Every pair of representations but the two inline fast paths.
    #[inline(never)]
    fn cmp_mixed(&self, other: &StoredKey) -> Ordering {
        match (self, other) {
            (StoredKey::Other(a), StoredKey::Other(b)) => a.as_ref().cmp(b),
            (StoredKey::Int(a), StoredKey::Other(b)) => Value::Int(*a).cmp(b),
            (StoredKey::Other(a), StoredKey::Int(b)) => a.as_ref().cmp(&Value::Int(*b)),
            (StoredKey::Short { words, len }, StoredKey::Other(b)) => match b.as_ref() {
                Value::Text(t) => StoredKey::with_short_str(words, *len, |s| s.cmp(t.as_str())),
                _ => self.class().cmp(&other.class()),
            },
            (StoredKey::Other(a), StoredKey::Short { words, len }) => match a.as_ref() {
                Value::Text(t) => StoredKey::with_short_str(words, *len, |s| t.as_str().cmp(s)),
                _ => self.class().cmp(&other.class()),
            },
            _ => self.class().cmp(&other.class()),
        }
    }
}

impl Ord for StoredKey {
    /// Integer and short text keys compare inline; a lookup makes about twenty comparisons.
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (StoredKey::Int(a), StoredKey::Int(b)) => a.cmp(b),
            (
                StoredKey::Short {
                    words: [a0, a1, a2],
                    len: la,
                },
                StoredKey::Short {
                    words: [b0, b1, b2],
                    len: lb,
                },
            ) => a0
                .cmp(b0)
                .then_with(|| a1.cmp(b1))
                .then_with(|| a2.cmp(b2))
                .then_with(|| la.cmp(lb)),
            _ => self.cmp_mixed(other),
        }
    }
}

impl PartialOrd for StoredKey {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for StoredKey {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for StoredKey {}

impl Hash for StoredKey {
    /// Equal keys hash alike. Equal keys share a representation, but for an `Int` and an
    /// `Other` float equal to it, which both hash as their `Value` does; a short text hashes its
    /// words, which no other representation's text can equal.
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            StoredKey::Null => Value::Null.hash(state),
            StoredKey::Int(i) => Value::Int(*i).hash(state),
            StoredKey::Short { words, len } => {
                words.hash(state);
                len.hash(state);
            }
            StoredKey::Other(v) => v.hash(state),
        }
    }
}

impl std::fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoredKey::Null => write!(f, "Null"),
            StoredKey::Int(i) => write!(f, "Int({i})"),
            StoredKey::Short { words, len } => {
                StoredKey::with_short_str(words, *len, |s| write!(f, "Text({s:?})"))
            }
            StoredKey::Other(v) => write!(f, "{v:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn hash_of(key: &StoredKey) -> u64 {
        use std::hash::BuildHasher;
        std::hash::BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default()
            .hash_one(key)
    }

    /// Keys around every representation's edges: integers, floats equal to them, text just
    /// under, at and over the inline length (ASCII and multi-byte), and other types.
    fn key() -> impl Strategy<Value = Value> {
        let text = proptest::collection::vec(
            prop_oneof![Just("a"), Just("b"), Just("é"), Just("\0")],
            0..30,
        )
        .prop_map(|parts| parts.concat());
        prop_oneof![
            (-3i64..3).prop_map(Value::Int),
            (-3i64..3).prop_map(|i| Value::Float(i as f64)),
            prop_oneof![Just(0.5), Just(f64::NAN), Just(-0.0)].prop_map(Value::Float),
            text.prop_map(Value::Text),
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            proptest::collection::vec(any::<u8>(), 0..3).prop_map(Value::Bytes),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 64 } else { 4096 }))]

        /// Stored keys order, and are equal, exactly as the values they stand for.
        #[test]
        fn stored_keys_order_as_their_values(a in key(), b in key()) {
            let (ka, kb) = (StoredKey::new(a.clone()), StoredKey::new(b.clone()));
            prop_assert_eq!(ka.cmp(&kb), a.cmp(&b));
            prop_assert_eq!(ka == kb, a == b);
            prop_assert_eq!(StoredKey::probe(&a).cmp(&kb), a.cmp(&b));
            if ka == kb {
                prop_assert_eq!(hash_of(&ka), hash_of(&kb), "equal keys hash alike");
            }
        }
    }

    #[test]
    fn text_up_to_the_inline_length_is_inline() {
        let at = Value::Text("k".repeat(SHORT_KEY));
        let over = Value::Text("k".repeat(SHORT_KEY + 1));
        assert!(matches!(StoredKey::new(at), StoredKey::Short { .. }));
        assert!(matches!(StoredKey::new(over), StoredKey::Other(_)));
        assert!(matches!(StoredKey::new(Value::Int(7)), StoredKey::Int(7)));
    }
}
