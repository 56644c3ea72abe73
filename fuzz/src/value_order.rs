//! `value_order`: `Value`'s `Ord`, `PartialEq` and `Hash` obey the laws that primary keys, indexes
//! and `order by` rely on.
//!
//! Three values are built from the input by a small generator that favours the hard cases: the
//! number class mixes `Int` and `Float` around the edges of exact comparison (`NaN`, `-0.0`,
//! infinities, 2^53, 2^63, `i64::MIN`), and later values are often derived from earlier ones (the
//! same number in the other representation, the next float, the same value inside a list) so that
//! equal-but-different values meet. Lists and maps nest at most [`MAX_DEPTH`] deep.
//!
//! For every pair and triple the check asserts: reflexivity, antisymmetry, transitivity (of `<=`,
//! `<` and `==`), `eq`/`partial_cmp` agreeing with `cmp`, equal values hashing alike, values of
//! different classes ordering by class, and every value lying within its class's bounds
//! (`TypeClass::min_value` and the next class's `min_value`, which the query planner uses as
//! range bounds).

use std::cmp::Ordering;
use std::hash::{DefaultHasher, Hash, Hasher};

use arbitrary::{Result, Unstructured};
use tabula_core::{Map, Timestamp, Value};

/// Deepest nesting of generated lists and maps (a scalar is depth 1).
pub const MAX_DEPTH: usize = 4;

/// Most elements of a generated list or map.
const MAX_LEN: usize = 4;

/// Builds three values from `data` and checks the order laws on them.
pub fn check(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let mut values: Vec<Value> = Vec::with_capacity(3);
    for _ in 0..3 {
        let v = gen_related(&mut u, &values).unwrap_or(Value::Null);
        values.push(v);
    }
    let [a, b, c] = [&values[0], &values[1], &values[2]];
    for x in [a, b, c] {
        single(x);
    }
    for (x, y) in [(a, b), (b, c), (a, c)] {
        pair(x, y);
    }
    for (x, y, z) in [
        (a, b, c),
        (a, c, b),
        (b, a, c),
        (b, c, a),
        (c, a, b),
        (c, b, a),
    ] {
        triple(x, y, z);
    }
}

fn hash_of(v: &Value) -> u64 {
    let mut h = DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

fn single(a: &Value) {
    assert_eq!(a.cmp(a), Ordering::Equal, "not reflexive: {a:?}");
    let copy = a.clone();
    assert!(*a == copy, "not equal to its clone: {a:?}");
    let class = a.class();
    let min = class.min_value();
    assert!(
        min <= *a,
        "{a:?} sorts before the least value of its class {class:?}, {min:?}"
    );
    if let Some(next) = class.next() {
        let bound = next.min_value();
        assert!(
            *a < bound,
            "{a:?} does not sort before the least value of the next class {next:?}, {bound:?}"
        );
    }
}

fn pair(a: &Value, b: &Value) {
    let ab = a.cmp(b);
    let ba = b.cmp(a);
    assert_eq!(ab, ba.reverse(), "not antisymmetric: {a:?} vs {b:?}");
    assert_eq!(
        a == b,
        ab == Ordering::Equal,
        "eq disagrees with cmp: {a:?} vs {b:?}"
    );
    assert_eq!(
        a != b,
        ab != Ordering::Equal,
        "ne disagrees with cmp: {a:?} vs {b:?}"
    );
    assert_eq!(
        a.partial_cmp(b),
        Some(ab),
        "partial_cmp disagrees with cmp: {a:?} vs {b:?}"
    );
    assert_eq!(
        a < b,
        ab == Ordering::Less,
        "lt disagrees with cmp: {a:?} vs {b:?}"
    );
    assert_eq!(
        a <= b,
        ab != Ordering::Greater,
        "le disagrees with cmp: {a:?} vs {b:?}"
    );
    if ab == Ordering::Equal {
        assert_eq!(
            hash_of(a),
            hash_of(b),
            "equal values hash differently: {a:?} vs {b:?}"
        );
        assert_eq!(
            a.class(),
            b.class(),
            "equal values of different classes: {a:?} vs {b:?}"
        );
    }
    if a.class() != b.class() {
        assert_eq!(
            ab,
            a.class().cmp(&b.class()),
            "values of different classes do not order by class: {a:?} vs {b:?}"
        );
    }
}

fn triple(a: &Value, b: &Value, c: &Value) {
    if a <= b && b <= c {
        assert!(
            a <= c,
            "<= not transitive: {a:?} <= {b:?} <= {c:?} but not {a:?} <= {c:?}"
        );
    }
    if a < b && b <= c {
        assert!(
            a < c,
            "< not transitive: {a:?} < {b:?} <= {c:?} but not {a:?} < {c:?}"
        );
    }
    if a == b && b == c {
        assert!(
            a == c,
            "== not transitive: {a:?} == {b:?} == {c:?} but {a:?} != {c:?}"
        );
    }
}

/// A value, often derived from one of `earlier` so that equal and adjacent values meet.
fn gen_related(u: &mut Unstructured<'_>, earlier: &[Value]) -> Result<Value> {
    if earlier.is_empty() || u.ratio(1, 2)? {
        return gen_value(u, 1);
    }
    let base = u.choose(earlier)?.clone();
    Ok(match u.int_in_range(0..=4)? {
        0 => base,
        1 => twin(&base).unwrap_or(base),
        2 => nudge(u, &base)?,
        3 => Value::List(vec![base]),
        _ => {
            // The same value one level down, with a sibling after it.
            let sibling = gen_value(u, MAX_DEPTH)?;
            match u.int_in_range(0..=1)? {
                0 => Value::List(vec![base, sibling]),
                _ => Value::Map(Map::from([
                    ("a".to_owned(), base),
                    ("b".to_owned(), sibling),
                ])),
            }
        }
    })
}

/// The same number in the other representation, where there is a close one.
fn twin(v: &Value) -> Option<Value> {
    match v {
        // The nearest float, and the saturating cast back: both are the point here.
        Value::Int(i) => Some(Value::Float(*i as f64)),
        Value::Float(f) => Some(Value::Int(*f as i64)),
        Value::List(items) => Some(Value::List(
            items
                .iter()
                .map(|i| twin(i).unwrap_or_else(|| i.clone()))
                .collect(),
        )),
        Value::Map(map) => Some(Value::Map(
            map.iter()
                .map(|(k, v)| (k.clone(), twin(v).unwrap_or_else(|| v.clone())))
                .collect(),
        )),
        _ => None,
    }
}

/// A value next to `v`: the next or previous float or integer, one more byte, one microsecond.
fn nudge(u: &mut Unstructured<'_>, v: &Value) -> Result<Value> {
    let up = u.arbitrary::<bool>()?;
    Ok(match v {
        Value::Int(i) => Value::Int(if up {
            i.wrapping_add(1)
        } else {
            i.wrapping_sub(1)
        }),
        Value::Float(f) => Value::Float(if up { f.next_up() } else { f.next_down() }),
        Value::Timestamp(t) => Value::Timestamp(Timestamp::from_micros(if up {
            t.as_micros().wrapping_add(1)
        } else {
            t.as_micros().wrapping_sub(1)
        })),
        Value::Text(s) => {
            let mut s = s.clone();
            if up {
                s.push('\0');
            } else {
                s.pop();
            }
            Value::Text(s)
        }
        Value::Bytes(b) => {
            let mut b = b.clone();
            if up {
                b.push(0);
            } else {
                b.pop();
            }
            Value::Bytes(b)
        }
        other => other.clone(),
    })
}

/// Integers where exact int/float comparison is easy to get wrong.
const EDGE_INTS: &[i64] = &[
    0,
    1,
    -1,
    i64::MAX,
    i64::MIN,
    i64::MAX - 1,
    i64::MIN + 1,
    1 << 53,
    (1 << 53) + 1,
    -(1 << 53) - 1,
    i64::MAX - 511,
    i64::MAX - 512,
    i64::MIN + 1024,
];

/// Floats at the edges: signed zeros, NaNs with other payloads, infinities, 2^63 and its
/// neighbours, 2^53 + 2, subnormals, fractions.
const EDGE_FLOATS: &[f64] = &[
    0.0,
    -0.0,
    f64::NAN,
    -f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    9_223_372_036_854_775_808.0,
    -9_223_372_036_854_775_808.0,
    9_223_372_036_854_774_784.0,
    18_446_744_073_709_551_616.0,
    9_007_199_254_740_994.0,
    f64::MAX,
    f64::MIN,
    f64::MIN_POSITIVE,
    5e-324,
    0.5,
    -0.5,
    1.0,
    -1.0,
    1.5,
    -1.5,
];

/// A value of any kind; containers only while `depth < MAX_DEPTH`.
fn gen_value(u: &mut Unstructured<'_>, depth: usize) -> Result<Value> {
    let kinds = if depth < MAX_DEPTH { 10 } else { 8 };
    Ok(match u.int_in_range(0..=kinds - 1)? {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => Value::Int(if u.ratio(1, 2)? {
            *u.choose(EDGE_INTS)?
        } else {
            u.arbitrary()?
        }),
        3 => Value::Float(match u.int_in_range(0..=2)? {
            0 => *u.choose(EDGE_FLOATS)?,
            // Any bit pattern, including signalling NaNs with payloads.
            1 => f64::from_bits(u.arbitrary()?),
            // A small integer-valued or half float, to meet small ints.
            _ => f64::from(u.int_in_range(-8i32..=8)?) / f64::from(u.int_in_range(1i32..=2)?),
        }),
        4 => Value::Int(i64::from(u.int_in_range(-8i8..=8)?)),
        5 => Value::Text(gen_text(u)?),
        6 => Value::Bytes(gen_bytes(u)?),
        7 => Value::Timestamp(Timestamp::from_micros(match u.int_in_range(0..=2)? {
            0 => *u.choose(&[i64::MIN, i64::MAX, 0, -1, 1])?,
            1 => i64::from(u.int_in_range(-3i8..=3)?),
            _ => u.arbitrary()?,
        })),
        8 => {
            let len = u.int_in_range(0..=MAX_LEN)?;
            let mut items = Vec::with_capacity(len);
            for _ in 0..len {
                items.push(gen_value(u, depth + 1)?);
            }
            Value::List(items)
        }
        _ => {
            let len = u.int_in_range(0..=MAX_LEN)?;
            let mut map = Map::new();
            for _ in 0..len {
                map.insert(gen_text(u)?, gen_value(u, depth + 1)?);
            }
            Value::Map(map)
        }
    })
}

/// Short text from a small alphabet (so equal and prefix-related texts are common), including
/// multi-byte characters and NUL; sometimes arbitrary text.
fn gen_text(u: &mut Unstructured<'_>) -> Result<String> {
    if u.ratio(1, 4)? {
        return u.arbitrary();
    }
    let len = u.int_in_range(0..=3)?;
    let mut s = String::new();
    for _ in 0..len {
        s.push(*u.choose(&['a', 'b', '\0', 'é', '\u{10FFFF}', '\u{FFFF}'])?);
    }
    Ok(s)
}

/// Short bytes from a small alphabet, sometimes arbitrary bytes.
fn gen_bytes(u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    if u.ratio(1, 4)? {
        return u.arbitrary();
    }
    let len = u.int_in_range(0..=3)?;
    let mut b = Vec::with_capacity(len);
    for _ in 0..len {
        b.push(*u.choose(&[0u8, 1, 0x7f, 0xff])?);
    }
    Ok(b)
}
