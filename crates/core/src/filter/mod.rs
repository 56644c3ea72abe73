//! [`Filter`]: a serializable predicate over rows, and its evaluation.
//!
//! A filter is data, not a closure, so text can be parsed into one ([`Filter::parse`], in
//! `parse.rs`), the log can carry one and the query planner can look inside it for an index to
//! use (see `query`).

mod parse;

use serde::{Deserialize, Serialize};

pub use parse::ParseFilterError;

use crate::error::Error;
use crate::limits::Limits;
use crate::path::Path;
use crate::row::Fields;
use crate::value::{Measure, Value};

/// A predicate over a row.
///
/// Semantics, chosen to be predictable on schemaless data:
/// - A missing field reads as `null`.
/// - `Eq`/`In` use value equality (so `Int(1)` matches `Float(1.0)`); `Eq(path, Null)` matches
///   missing and null fields, like `IsNull`.
/// - `Ne` is exactly `Not(Eq)`: it matches rows where the field is missing.
/// - `Lt`, `Le`, `Gt`, `Ge` and `Between` are *type-bracketed*: they only match values of the
///   operand's [`crate::TypeClass`] (numbers with numbers, text with text), never `null`.
/// - `Prefix` matches text starting with the prefix.
/// - `And([])` is true, `Or([])` is false.
///
/// ```
/// use tabula_core::Filter;
/// let f = Filter::ge("gpa", 3.5).and(Filter::prefix("email", "a"));
/// let json = serde_json::to_string(&f).unwrap();
/// assert!(json.contains("gpa"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Filter {
    /// Field equals value.
    Eq(Path, Value),
    /// Field does not equal value.
    Ne(Path, Value),
    /// Field is less than value (same class).
    Lt(Path, Value),
    /// Field is less than or equal to value (same class).
    Le(Path, Value),
    /// Field is greater than value (same class).
    Gt(Path, Value),
    /// Field is greater than or equal to value (same class).
    Ge(Path, Value),
    /// Field equals one of the values.
    In(Path, Vec<Value>),
    /// `low <= field <= high`, with field in low's class.
    Between(Path, Value, Value),
    /// Text field starts with the prefix.
    Prefix(Path, String),
    /// Field is null or missing.
    IsNull(Path),
    /// List field has an element equal to the value (`tags contains 'new'`).
    Contains(Path, Value),
    /// All of the filters hold.
    And(Vec<Filter>),
    /// Any of the filters holds.
    Or(Vec<Filter>),
    /// The filter does not hold.
    Not(Box<Filter>),
    /// A filter that could not be built, and why: a typed field given a value its column
    /// cannot hold (a `u64` past `i64::MAX`). Running it is [`Error::InvalidFilter`] with the
    /// reason, so the mistake surfaces where the query runs instead of matching nothing. Never
    /// serialized.
    #[serde(skip)]
    Invalid(String),
}

macro_rules! leaf_ctor {
    ($($(#[$doc:meta])* $fn:ident => $variant:ident),* $(,)?) => {
        $($(#[$doc])*
        #[must_use]
        pub fn $fn(path: impl Into<Path>, value: impl Into<Value>) -> Filter {
            Filter::$variant(path.into(), value.into())
        })*
    };
}

impl Filter {
    /// The filter that matches every row.
    #[must_use]
    pub fn all() -> Filter {
        Filter::And(Vec::new())
    }

    leaf_ctor! {
        /// `path == value`.
        eq => Eq,
        /// `path != value`.
        ne => Ne,
        /// `path < value`.
        lt => Lt,
        /// `path <= value`.
        le => Le,
        /// `path > value`.
        gt => Gt,
        /// `path >= value`.
        ge => Ge,
    }

    /// `path` is one of `values`.
    #[must_use]
    pub fn is_in(
        path: impl Into<Path>,
        values: impl IntoIterator<Item = impl Into<Value>>,
    ) -> Filter {
        Filter::In(path.into(), values.into_iter().map(Into::into).collect())
    }

    /// `low <= path <= high`.
    #[must_use]
    pub fn between(path: impl Into<Path>, low: impl Into<Value>, high: impl Into<Value>) -> Filter {
        Filter::Between(path.into(), low.into(), high.into())
    }

    /// `path` is text starting with `prefix`.
    #[must_use]
    pub fn prefix(path: impl Into<Path>, prefix: impl Into<String>) -> Filter {
        Filter::Prefix(path.into(), prefix.into())
    }

    /// `path` is null or missing.
    #[must_use]
    pub fn is_null(path: impl Into<Path>) -> Filter {
        Filter::IsNull(path.into())
    }

    /// `path` is a list with an element equal to `item`.
    #[must_use]
    pub fn contains(path: impl Into<Path>, item: impl Into<Value>) -> Filter {
        Filter::Contains(path.into(), item.into())
    }

    /// Both this and `other`.
    #[must_use]
    pub fn and(self, other: Filter) -> Filter {
        match self {
            Filter::And(mut all) => {
                all.push(other);
                Filter::And(all)
            }
            this => Filter::And(vec![this, other]),
        }
    }

    /// This or `other`.
    #[must_use]
    pub fn or(self, other: Filter) -> Filter {
        match self {
            Filter::Or(mut any) => {
                any.push(other);
                Filter::Or(any)
            }
            this => Filter::Or(vec![this, other]),
        }
    }

    /// The negation of this filter.
    #[must_use]
    pub fn negate(self) -> Filter {
        Filter::Not(Box::new(self))
    }

    /// Checks nesting depth (without recursion, so a hostile filter cannot overflow the stack)
    /// and every path. Evaluation recurses, so call this on filters from outside first; the
    /// query functions do.
    ///
    /// # Errors
    /// [`Error::LimitExceeded`] or a path error.
    pub fn validate(&self, limits: &Limits) -> Result<(), Error> {
        let mut stack = vec![(self, 1usize)];
        while let Some((f, depth)) = stack.pop() {
            if depth > limits.max_filter_depth {
                return Err(Error::LimitExceeded {
                    what: "filter nesting depth".into(),
                    limit: limits.max_filter_depth,
                    actual: depth,
                });
            }
            match f {
                Filter::And(fs) | Filter::Or(fs) => stack.extend(fs.iter().map(|f| (f, depth + 1))),
                Filter::Not(f) => stack.push((f, depth + 1)),
                Filter::Invalid(reason) => {
                    return Err(Error::InvalidFilter {
                        reason: reason.clone(),
                    });
                }
                leaf => {
                    if let Some(p) = leaf.path() {
                        p.validate(limits)?;
                    }
                    // Operands are compared, cloned and sorted recursively: bound them first.
                    for v in leaf.operands() {
                        let m = Measure::of(v, limits.max_depth);
                        if m.depth > limits.max_depth {
                            return Err(Error::LimitExceeded {
                                what: "nesting depth of a filter operand".into(),
                                limit: limits.max_depth,
                                actual: m.depth,
                            });
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// The field a leaf filter tests; `None` for `and`, `or` and `not`.
    #[must_use]
    pub fn path(&self) -> Option<&Path> {
        match self {
            Filter::Eq(p, _)
            | Filter::Ne(p, _)
            | Filter::Lt(p, _)
            | Filter::Le(p, _)
            | Filter::Gt(p, _)
            | Filter::Ge(p, _)
            | Filter::In(p, _)
            | Filter::Between(p, _, _)
            | Filter::Prefix(p, _)
            | Filter::IsNull(p)
            | Filter::Contains(p, _) => Some(p),
            Filter::And(_) | Filter::Or(_) | Filter::Not(_) | Filter::Invalid(_) => None,
        }
    }

    /// Every path the filter reads, leaves in order.
    #[must_use]
    pub fn paths(&self) -> Vec<&Path> {
        let mut paths = Vec::new();
        let mut stack = vec![self];
        while let Some(f) = stack.pop() {
            match f {
                Filter::And(fs) | Filter::Or(fs) => stack.extend(fs.iter().rev()),
                Filter::Not(f) => stack.push(f),
                leaf => paths.extend(leaf.path()),
            }
        }
        paths
    }

    /// The values a leaf filter compares with.
    fn operands(&self) -> Vec<&Value> {
        match self {
            Filter::Eq(_, v)
            | Filter::Ne(_, v)
            | Filter::Lt(_, v)
            | Filter::Le(_, v)
            | Filter::Gt(_, v)
            | Filter::Ge(_, v)
            | Filter::Contains(_, v) => vec![v],
            Filter::In(_, vs) => vs.iter().collect(),
            Filter::Between(_, lo, hi) => vec![lo, hi],
            _ => Vec::new(),
        }
    }

    /// Whether `row` satisfies the filter: a [`Row`](crate::Row), or a stored [`crate::RowRef`], which
    /// decodes only the fields the filter reads.
    #[must_use]
    pub fn matches<R: Fields + ?Sized>(&self, row: &R) -> bool {
        match self {
            Filter::Eq(p, v) => *p.lookup_or_null(row) == *v,
            Filter::Ne(p, v) => *p.lookup_or_null(row) != *v,
            Filter::Lt(p, v) => same_class(&p.lookup_or_null(row), v).is_some_and(|x| x < v),
            Filter::Le(p, v) => same_class(&p.lookup_or_null(row), v).is_some_and(|x| x <= v),
            Filter::Gt(p, v) => same_class(&p.lookup_or_null(row), v).is_some_and(|x| x > v),
            Filter::Ge(p, v) => same_class(&p.lookup_or_null(row), v).is_some_and(|x| x >= v),
            Filter::In(p, vs) => {
                let x = p.lookup_or_null(row);
                vs.contains(&x)
            }
            Filter::Between(p, lo, hi) => {
                same_class(&p.lookup_or_null(row), lo).is_some_and(|x| lo <= x && x <= hi)
            }
            Filter::Prefix(p, prefix) => p
                .lookup(row)
                .is_some_and(|v| v.as_str().is_some_and(|s| s.starts_with(prefix.as_str()))),
            Filter::IsNull(p) => p.lookup_or_null(row).is_null(),
            Filter::Contains(p, v) => p
                .lookup(row)
                .is_some_and(|x| matches!(&*x, Value::List(items) if items.contains(v))),
            Filter::And(fs) => fs.iter().all(|f| f.matches(row)),
            Filter::Or(fs) => fs.iter().any(|f| f.matches(row)),
            Filter::Not(f) => !f.matches(row),
            Filter::Invalid(_) => false,
        }
    }
}

/// `x` if it is a non-null value of `operand`'s class: the type bracket of range comparisons.
fn same_class<'a>(x: &'a Value, operand: &Value) -> Option<&'a Value> {
    (!x.is_null() && x.class() == operand.class()).then_some(x)
}
