//! Size and nesting depth of a value, measured without recursion so that a deeply nested value
//! cannot overflow the stack while it is being checked against the limits.

use super::Value;

/// What [`Measure::of`] found: the nesting depth and an estimate of the encoded size in bytes.
///
/// The size counts every scalar's payload plus a small fixed overhead per value and per map key;
/// it is close to the MessagePack encoding and is what the record-size limit is checked against,
/// so the limit does not depend on which codec later writes the row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Measure {
    /// Nesting depth: a scalar is 1, `[1]` is 2, `{"a": [1]}` is 3.
    pub depth: usize,
    /// Estimated encoded size in bytes.
    pub size: usize,
}

/// Fixed per-value overhead: a tag and a length prefix, as most encodings have.
const VALUE_OVERHEAD: usize = 2;

impl Measure {
    /// Measures `value`, giving up as soon as `max_depth` is exceeded (then `depth` is
    /// `max_depth + 1` and `size` is partial), so the walk is bounded by the limit, not the input.
    #[must_use]
    pub fn of(value: &Value, max_depth: usize) -> Measure {
        Self::of_all(std::iter::once(value), 0, max_depth)
    }

    /// Measures the values of a row, each one level below the row itself (a row of scalars has
    /// depth 2), plus the bytes of its field names.
    #[must_use]
    pub fn of_row<'a>(
        row: impl IntoIterator<Item = (&'a String, &'a Value)>,
        max_depth: usize,
    ) -> Measure {
        let mut keys = 0;
        let values = row.into_iter().map(|(k, v)| {
            keys += k.len() + VALUE_OVERHEAD;
            v
        });
        let mut m = Self::of_all(values, 1, max_depth);
        m.size += keys + VALUE_OVERHEAD;
        m.depth = m.depth.max(1);
        m
    }

    fn of_all<'a>(
        roots: impl Iterator<Item = &'a Value>,
        base: usize,
        max_depth: usize,
    ) -> Measure {
        // Containers wait on an explicit stack; scalars are counted on the spot, so a flat row
        // never allocates the stack at all.
        let mut stack: Vec<(&Value, usize)> = Vec::new();
        let mut out = Measure::default();
        for root in roots {
            let mut next = Some((root, base + 1));
            while let Some((v, depth)) = next.take().or_else(|| stack.pop()) {
                out.depth = out.depth.max(depth);
                if depth > max_depth {
                    return out;
                }
                out.size += VALUE_OVERHEAD
                    + match v {
                        Value::Null | Value::Bool(_) => 0,
                        Value::Int(_) | Value::Float(_) | Value::Timestamp(_) => 8,
                        Value::Text(s) => s.len(),
                        Value::Bytes(b) => b.len(),
                        Value::List(items) => {
                            stack.extend(items.iter().map(|i| (i, depth + 1)));
                            0
                        }
                        Value::Map(map) => {
                            stack.extend(map.values().map(|i| (i, depth + 1)));
                            map.keys().map(|k| k.len() + VALUE_OVERHEAD).sum()
                        }
                    };
            }
        }
        out
    }
}

impl Value {
    /// Bytes this value owns on the heap (text, bytes, list and map storage), for the memory
    /// figures of `stats`; the value itself is counted where it is held.
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        match self {
            Value::Text(t) => t.capacity(),
            Value::Bytes(b) => b.capacity(),
            Value::List(items) => {
                items.capacity() * size_of::<Value>()
                    + items.iter().map(Value::heap_bytes).sum::<usize>()
            }
            Value::Map(map) => map
                .iter()
                .map(|(k, v)| size_of::<(String, Value)>() + k.capacity() + v.heap_bytes())
                .sum(),
            _ => 0,
        }
    }
}
