//! The total order, equality and hash of [`Value`], which primary keys and indexes rely on.
//!
//! The rules are stated on [`Value`]; this module implements them and the class bounds the query
//! planner uses to turn a type-bracketed comparison into an index range.

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};

use super::{Map, Timestamp, Value};

/// The ordering class of a value. Classes order as declared; `Int` and `Float` share `Number`.
///
/// Range filters (`lt`, `gt`, `between`, ...) are *type-bracketed*: they match only values of the
/// operand's class, so `age > 3` never matches the text `"abc"` even though text sorts after
/// numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum TypeClass {
    /// `Null`.
    Null,
    /// `Bool`.
    Bool,
    /// `Int` and `Float`.
    Number,
    /// `Timestamp`.
    Timestamp,
    /// `Text`.
    Text,
    /// `Bytes`.
    Bytes,
    /// `List`.
    List,
    /// `Map`.
    Map,
}

impl TypeClass {
    /// The smallest value of this class: every value `v` of the class has `min <= v`, and every
    /// value of an earlier class is `< min`.
    #[must_use]
    pub fn min_value(self) -> Value {
        match self {
            TypeClass::Null => Value::Null,
            TypeClass::Bool => Value::Bool(false),
            TypeClass::Number => Value::Float(f64::NEG_INFINITY),
            TypeClass::Timestamp => Value::Timestamp(Timestamp::from_micros(i64::MIN)),
            TypeClass::Text => Value::Text(String::new()),
            TypeClass::Bytes => Value::Bytes(Vec::new()),
            TypeClass::List => Value::List(Vec::new()),
            TypeClass::Map => Value::Map(Map::new()),
        }
    }

    /// The class after this one, if any; its `min_value` is the exclusive upper bound of this one.
    #[must_use]
    pub fn next(self) -> Option<TypeClass> {
        match self {
            TypeClass::Null => Some(TypeClass::Bool),
            TypeClass::Bool => Some(TypeClass::Number),
            TypeClass::Number => Some(TypeClass::Timestamp),
            TypeClass::Timestamp => Some(TypeClass::Text),
            TypeClass::Text => Some(TypeClass::Bytes),
            TypeClass::Bytes => Some(TypeClass::List),
            TypeClass::List => Some(TypeClass::Map),
            TypeClass::Map => None,
        }
    }
}

/// 2^63 as an `f64`: the first float above every `i64`.
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

/// The `i64` equal to `f`, if there is one.
pub(super) fn integral(f: f64) -> Option<i64> {
    #[expect(clippy::cast_possible_truncation, reason = "integral and in range")]
    (f.fract() == 0.0 && (-TWO_POW_63..TWO_POW_63).contains(&f)).then_some(f as i64)
}

/// Compares an integer with a float exactly, without rounding the integer to a float.
fn cmp_int_float(i: i64, f: f64) -> Ordering {
    if f.is_nan() {
        return Ordering::Less;
    }
    if f >= TWO_POW_63 {
        return Ordering::Less;
    }
    if f < -TWO_POW_63 {
        return Ordering::Greater;
    }
    // Now -2^63 <= f < 2^63, so its integral part fits an i64 exactly.
    let t = f.trunc();
    #[expect(clippy::cast_possible_truncation, reason = "range checked above")]
    let ti = t as i64;
    match i.cmp(&ti) {
        Ordering::Equal => {
            // Same integral part: the fraction decides (f - t is exact for floats in range).
            let frac = f - t;
            if frac > 0.0 {
                Ordering::Less
            } else if frac < 0.0 {
                Ordering::Greater
            } else {
                Ordering::Equal
            }
        }
        other => other,
    }
}

/// Compares floats as the total order wants: numerically, `-0.0 == 0.0`, all NaNs equal and last.
fn cmp_float(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

impl Ord for Value {
    /// Integer keys are the common case for tables and indexes, and this comparison runs about
    /// twenty times per tree lookup, so it gets an inlined fast path; the rest is out of line.
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        if let (Value::Int(a), Value::Int(b)) = (self, other) {
            return a.cmp(b);
        }
        cmp_general(self, other)
    }
}

#[inline(never)]
fn cmp_general(this: &Value, other: &Value) -> Ordering {
    {
        use Value::{Bool, Bytes, Float, Int, List, Map as M, Null, Text, Timestamp as Ts};
        match (this, other) {
            (Null, Null) => Ordering::Equal,
            (Bool(a), Bool(b)) => a.cmp(b),
            (Int(a), Int(b)) => a.cmp(b),
            (Float(a), Float(b)) => cmp_float(*a, *b),
            (Int(a), Float(b)) => cmp_int_float(*a, *b),
            (Float(a), Int(b)) => cmp_int_float(*b, *a).reverse(),
            (Ts(a), Ts(b)) => a.cmp(b),
            (Text(a), Text(b)) => a.cmp(b),
            (Bytes(a), Bytes(b)) => a.cmp(b),
            (List(a), List(b)) => a.cmp(b),
            (M(a), M(b)) => a.cmp(b),
            _ => this.class().cmp(&other.class()),
        }
    }
}

impl PartialOrd for Value {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Value {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Value {}

impl Hash for Value {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.class().hash(state);
        match self {
            Value::Null => {}
            Value::Bool(b) => b.hash(state),
            Value::Int(i) => hash_number(*i, None, state),
            Value::Float(f) => hash_float(*f, state),
            Value::Timestamp(t) => t.hash(state),
            Value::Text(s) => s.hash(state),
            Value::Bytes(b) => b.hash(state),
            Value::List(l) => l.hash(state),
            Value::Map(m) => m.hash(state),
        }
    }
}

/// Floats equal to an integer hash as that integer, so `Int(1)` and `Float(1.0)` hash alike.
fn hash_float<H: Hasher>(f: f64, state: &mut H) {
    if f.is_nan() {
        hash_number(0, Some(u64::MAX), state);
    } else if let Some(i) = integral(f) {
        hash_number(i, None, state);
    } else {
        hash_number(0, Some(f.to_bits()), state);
    }
}

fn hash_number<H: Hasher>(int: i64, non_integral_bits: Option<u64>, state: &mut H) {
    int.hash(state);
    non_integral_bits.hash(state);
}
