//! [`Query`]: filter, order, offset/limit and projection over one table, and the planner that
//! picks the primary key or an index when the filter allows it.
//!
//! The planner looks at the top-level conjunction of the filter (`a AND b AND ...`) for one
//! predicate it can answer from the primary key or a secondary index (`eq`, `in`, `is_null`,
//! ranges, `prefix`), fetches those candidate rows, and checks the *whole* filter on each. So an
//! index can only narrow the rows examined, never change the result. Candidates are always
//! visited in primary key order, so the result (and what `limit` cuts) is the same whichever plan
//! is chosen.

use std::cmp::Ordering;
use std::ops::Bound;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::filter::Filter;
use crate::index::Index;
use crate::key::StoredKey;
use crate::limits::Limits;
use crate::path::Path;
use crate::row::RowRef;
use crate::table::TableState;
use crate::value::{Row, Value};

/// One `order by` term.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderBy {
    /// The column or path to sort by.
    pub path: Path,
    /// Largest first.
    #[serde(default)]
    pub descending: bool,
}

/// A query over one table. Serializable, so tools and logs can carry it.
///
/// ```
/// use tabula_core::{Filter, Query};
/// let q = Query::new()
///     .filter(Filter::ge("gpa", 3.5))
///     .order_by("gpa", true)
///     .order_by("name", false)
///     .limit(10)
///     .select(["name", "gpa"]);
/// assert_eq!(q.limit, Some(10));
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Query {
    /// Which rows; `None` is all of them.
    #[serde(default)]
    pub filter: Option<Filter>,
    /// Sort terms, most significant first; ties and an empty list fall back to key order.
    #[serde(default)]
    pub order_by: Vec<OrderBy>,
    /// Rows to skip after sorting.
    #[serde(default)]
    pub offset: usize,
    /// Most rows to return.
    #[serde(default)]
    pub limit: Option<usize>,
    /// Fields to return (as paths; the output field is the dotted path); `None` is whole rows.
    #[serde(default)]
    pub projection: Option<Vec<Path>>,
}

impl Query {
    /// All rows, in key order.
    #[must_use]
    pub fn new() -> Self {
        Query::default()
    }

    /// Keeps rows matching `filter` (and any filter set before).
    #[must_use]
    pub fn filter(mut self, filter: Filter) -> Self {
        self.filter = Some(match self.filter.take() {
            Some(f) => f.and(filter),
            None => filter,
        });
        self
    }

    /// Adds a sort term.
    #[must_use]
    pub fn order_by(mut self, path: impl Into<Path>, descending: bool) -> Self {
        self.order_by.push(OrderBy {
            path: path.into(),
            descending,
        });
        self
    }

    /// Adds an ascending sort term (`order_by(path, false)`).
    #[must_use]
    pub fn order_by_asc(self, path: impl Into<Path>) -> Self {
        self.order_by(path, false)
    }

    /// Adds a descending sort term (`order_by(path, true)`).
    #[must_use]
    pub fn order_by_desc(self, path: impl Into<Path>) -> Self {
        self.order_by(path, true)
    }

    /// Skips the first `n` rows.
    #[must_use]
    pub fn offset(mut self, n: usize) -> Self {
        self.offset = n;
        self
    }

    /// Returns at most `n` rows.
    #[must_use]
    pub fn limit(mut self, n: usize) -> Self {
        self.limit = Some(n);
        self
    }

    /// Returns only these fields.
    #[must_use]
    pub fn select<P: Into<Path>>(mut self, paths: impl IntoIterator<Item = P>) -> Self {
        self.projection = Some(paths.into_iter().map(Into::into).collect());
        self
    }
}

/// How a query found its candidate rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Plan {
    /// Every row was examined.
    FullScan,
    /// Rows were fetched by primary key (`eq`/`in` on the key).
    KeyLookup {
        /// Number of keys looked up.
        keys: usize,
    },
    /// A range of primary keys was scanned.
    KeyRange,
    /// An index was probed for equal values (`eq`/`in`/`is_null`).
    IndexLookup {
        /// The index.
        index: String,
        /// Number of values probed.
        values: usize,
    },
    /// A range of an index was scanned (`lt`..`between`, `prefix`).
    IndexRange {
        /// The index.
        index: String,
    },
}

/// What a query returned, how, and at what cost.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    /// The rows, sorted, cut and projected.
    pub rows: Vec<RowRef>,
    /// The plan used.
    pub plan: Plan,
    /// How many rows the filter was evaluated on: the table size for a full scan, the number of
    /// candidates otherwise. Tests use it to prove an index was used.
    pub examined: usize,
}

/// Where candidates come from.
enum Access<'a> {
    Keys(Vec<&'a Value>),
    KeyRange(Bound<Value>, Bound<Value>),
    IndexEq(&'a Index, Vec<&'a Value>),
    IndexRange(&'a Index, Bound<Value>, Bound<Value>),
}

impl Access<'_> {
    /// Lower is better: exact lookups before ranges, the key before an index.
    fn rank(&self) -> u8 {
        match self {
            Access::Keys(_) => 0,
            // Unique means at most one row per value, except for null, which any number share.
            Access::IndexEq(index, values)
                if index.def().unique && values.iter().all(|v| !v.is_null()) =>
            {
                1
            }
            Access::IndexEq(..) => 2,
            Access::KeyRange(..) => 3,
            Access::IndexRange(..) => 4,
        }
    }

    fn plan(&self) -> Plan {
        match self {
            Access::Keys(keys) => Plan::KeyLookup { keys: keys.len() },
            Access::KeyRange(..) => Plan::KeyRange,
            Access::IndexEq(index, values) => Plan::IndexLookup {
                index: index.def().name.clone(),
                values: values.len(),
            },
            Access::IndexRange(index, ..) => Plan::IndexRange {
                index: index.def().name.clone(),
            },
        }
    }
}

impl TableState {
    /// Runs `query`.
    ///
    /// # Errors
    /// [`Error::InvalidFilter`] or [`Error::LimitExceeded`] if the filter or a path is invalid.
    pub fn query(&self, query: &Query, limits: &Limits) -> Result<QueryResult, Error> {
        self.query_hiding(query, None, limits)
    }

    /// Runs `query` as if the rows matching `hidden` were not there: for read views that leave
    /// rows out without changing the table (the engine hides rows past their time to live until
    /// logged deletes remove them). `hidden` is the view's, not the caller's, so it is not
    /// held to the caller's filter limits.
    ///
    /// # Errors
    /// As [`TableState::query`].
    pub fn query_hiding(
        &self,
        query: &Query,
        hidden: Option<&Filter>,
        limits: &Limits,
    ) -> Result<QueryResult, Error> {
        for path in query
            .order_by
            .iter()
            .map(|o| &o.path)
            .chain(query.projection.iter().flatten())
        {
            path.validate(limits)?;
            self.known_column(path)?;
        }
        // Without a sort, rows come in key order and the scan can stop once it has enough.
        let stop_after = match (query.order_by.is_empty(), query.limit) {
            (true, Some(limit)) => Some(query.offset.saturating_add(limit)),
            _ => None,
        };
        let (mut rows, plan, examined) =
            self.matching(query.filter.as_ref(), hidden, stop_after, limits)?;
        if !query.order_by.is_empty() {
            // Stable sort: ties keep key order. Each row's sort values are decoded once.
            let mut keyed: Vec<(Vec<Value>, RowRef)> = rows
                .into_iter()
                .map(|row| (sort_values(&row, &query.order_by), row))
                .collect();
            keyed.sort_by(|(a, _), (b, _)| compare_sort_values(a, b, &query.order_by));
            rows = keyed.into_iter().map(|(_, row)| row).collect();
        }
        let rows = rows
            .into_iter()
            .skip(query.offset)
            .take(query.limit.unwrap_or(usize::MAX));
        let rows = match &query.projection {
            None => rows.collect(),
            Some(paths) => rows.map(|row| RowRef::from(project(&row, paths))).collect(),
        };
        Ok(QueryResult {
            rows,
            plan,
            examined,
        })
    }

    /// Number of rows matching `filter`.
    ///
    /// # Errors
    /// As [`TableState::query`].
    pub fn count(&self, filter: Option<&Filter>, limits: &Limits) -> Result<usize, Error> {
        self.count_hiding(filter, None, limits)
    }

    /// Number of rows matching `filter` and not `hidden` (see [`TableState::query_hiding`]).
    ///
    /// # Errors
    /// As [`TableState::query`].
    pub fn count_hiding(
        &self,
        filter: Option<&Filter>,
        hidden: Option<&Filter>,
        limits: &Limits,
    ) -> Result<usize, Error> {
        Ok(self.matching(filter, hidden, None, limits)?.0.len())
    }

    /// Refuses a path into a column a typed table does not have: its rows can hold no such
    /// field (writes refuse unknown columns), so a filter on it could only match nothing and an
    /// order by it could only be ignored, which hides a typo. Tables without a schema take any
    /// path.
    fn known_column(&self, path: &Path) -> Result<(), Error> {
        match &self.def().schema {
            Some(schema) if schema.column(path.first()).is_none() => Err(Error::UnknownColumn {
                table: self.def().name.clone(),
                column: path.first().to_owned(),
            }),
            _ => Ok(()),
        }
    }

    /// The plan `filter` would use, without running it.
    #[must_use]
    pub fn plan(&self, filter: Option<&Filter>) -> Plan {
        filter
            .and_then(|f| self.access(f))
            .map_or(Plan::FullScan, |a| a.plan())
    }

    /// Rows matching `filter` and not `hidden`, in key order, stopping after `stop_after`
    /// matches.
    fn matching(
        &self,
        filter: Option<&Filter>,
        hidden: Option<&Filter>,
        stop_after: Option<usize>,
        limits: &Limits,
    ) -> Result<(Vec<RowRef>, Plan, usize), Error> {
        if let Some(f) = filter {
            f.validate(limits)?;
            for path in f.paths() {
                self.known_column(path)?;
            }
        }
        let want = stop_after.unwrap_or(usize::MAX);
        let mut out = Vec::new();
        let mut examined = 0;
        // A filter that is one exact predicate on the key needs no second look at the rows the
        // key access visits: they are exactly the rows it matches.
        let recheck = filter.filter(|f| !self.key_access_is_exact(f));
        let mut check = |row: &RowRef| {
            examined += 1;
            if recheck.is_none_or(|f| f.matches(row)) && hidden.is_none_or(|h| !h.matches(row)) {
                out.push(row.clone());
            }
            out.len() < want
        };
        let access = filter.and_then(|f| self.access(f));
        let plan = access.as_ref().map_or(Plan::FullScan, Access::plan);
        match access {
            None => {
                for (_, row) in self.iter() {
                    if !check(row) {
                        break;
                    }
                }
            }
            Some(Access::KeyRange(lo, hi)) => {
                for row in self.rows_in((lo, hi)) {
                    if !check(row) {
                        break;
                    }
                }
            }
            Some(Access::Keys(mut keys)) => {
                keys.sort();
                keys.dedup();
                for row in keys.into_iter().filter_map(|k| self.get(k)) {
                    if !check(row) {
                        break;
                    }
                }
            }
            Some(Access::IndexEq(index, values)) => {
                let mut keys: Vec<&StoredKey> =
                    values.into_iter().flat_map(|v| index.keys_eq(v)).collect();
                keys.sort();
                keys.dedup();
                for row in keys.into_iter().filter_map(|k| self.find(k)) {
                    if !check(row) {
                        break;
                    }
                }
            }
            Some(Access::IndexRange(index, lo, hi)) => {
                let mut keys: Vec<&StoredKey> = index
                    .range(bound_ref(&lo), bound_ref(&hi))
                    .map(|(_, k)| k)
                    .collect();
                keys.sort();
                for row in keys.into_iter().filter_map(|k| self.find(k)) {
                    if !check(row) {
                        break;
                    }
                }
            }
        }
        Ok((out, plan, examined))
    }

    /// Whether `filter` is a single predicate on the primary key whose key access (`Keys` or
    /// `KeyRange`, see [`range_of`]) visits exactly the rows it matches: equality and `in`
    /// (looked up by equal keys), the type-bracketed ranges and prefixes (their range is the
    /// bracket), and `between` with bounds of one class. Keys are never null.
    fn key_access_is_exact(&self, filter: &Filter) -> bool {
        if !filter.path().is_some_and(|p| self.is_key_path(p)) {
            return false;
        }
        match filter {
            Filter::Eq(..)
            | Filter::In(..)
            | Filter::Lt(..)
            | Filter::Le(..)
            | Filter::Gt(..)
            | Filter::Ge(..)
            | Filter::Prefix(..) => true,
            Filter::Between(_, lo, hi) => lo.class() == hi.class(),
            _ => false,
        }
    }

    /// Whether `path` is the primary-key column.
    fn is_key_path(&self, path: &Path) -> bool {
        path.is_column() && path.first() == self.def().primary_key
    }

    /// The best access path for `filter`, if any conjunct can use the key or an index.
    fn access<'a>(&'a self, filter: &'a Filter) -> Option<Access<'a>> {
        let mut conjuncts = Vec::new();
        let mut stack = vec![filter];
        while let Some(f) = stack.pop() {
            match f {
                Filter::And(fs) => stack.extend(fs.iter()),
                leaf => conjuncts.push(leaf),
            }
        }
        conjuncts
            .into_iter()
            .filter_map(|f| self.access_for(f))
            .min_by_key(Access::rank)
    }

    fn access_for<'a>(&'a self, f: &'a Filter) -> Option<Access<'a>> {
        // `ne` and the connectives cannot narrow the rows to visit.
        let path = match f {
            Filter::Ne(..) => return None,
            leaf => leaf.path()?,
        };
        let is_key = self.is_key_path(path);
        let index = if is_key {
            None
        } else {
            Some(self.indexes().iter().find(|i| &i.def().path == path)?)
        };
        const NULL: &Value = &Value::Null;
        let exact: Option<Vec<&Value>> = match f {
            Filter::Eq(_, v) => Some(vec![v]),
            Filter::In(_, vs) => Some(vs.iter().collect()),
            Filter::IsNull(_) => Some(vec![NULL]),
            _ => None,
        };
        if let Some(values) = exact {
            return Some(match index {
                None => Access::Keys(values),
                Some(index) => Access::IndexEq(index, values),
            });
        }
        let (lo, hi) = range_of(f)?;
        Some(match index {
            None => Access::KeyRange(lo, hi),
            Some(index) => Access::IndexRange(index, lo, hi),
        })
    }
}

/// The value range a range predicate can match: bounded by the predicate and by its operand's
/// class (the type bracket).
fn range_of(f: &Filter) -> Option<(Bound<Value>, Bound<Value>)> {
    let class_lo = |v: &Value| Bound::Included(v.class().min_value());
    let class_hi = |v: &Value| {
        v.class()
            .next()
            .map_or(Bound::Unbounded, |c| Bound::Excluded(c.min_value()))
    };
    Some(match f {
        Filter::Lt(_, v) => (class_lo(v), Bound::Excluded(v.clone())),
        Filter::Le(_, v) => (class_lo(v), Bound::Included(v.clone())),
        Filter::Gt(_, v) => (Bound::Excluded(v.clone()), class_hi(v)),
        Filter::Ge(_, v) => (Bound::Included(v.clone()), class_hi(v)),
        Filter::Between(_, lo, hi) => (Bound::Included(lo.clone()), Bound::Included(hi.clone())),
        Filter::Prefix(_, p) => (
            Bound::Included(Value::Text(p.clone())),
            prefix_end(p).map_or_else(
                || class_hi(&Value::Text(String::new())),
                |e| Bound::Excluded(Value::Text(e)),
            ),
        ),
        _ => return None,
    })
}

/// The smallest text greater than every text starting with `prefix`, if there is one.
fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (u32::from(last) + 1..=u32::from(char::MAX)).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

fn bound_ref(b: &Bound<Value>) -> Bound<&Value> {
    match b {
        Bound::Included(v) => Bound::Included(v),
        Bound::Excluded(v) => Bound::Excluded(v),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// The values a row sorts by, one per term.
fn sort_values(row: &RowRef, order: &[OrderBy]) -> Vec<Value> {
    order
        .iter()
        .map(|term| term.path.lookup_or_null(row).into_owned())
        .collect()
}

fn compare_sort_values(a: &[Value], b: &[Value], order: &[OrderBy]) -> Ordering {
    for ((x, y), term) in a.iter().zip(b).zip(order) {
        let ord = x.cmp(y);
        let ord = if term.descending { ord.reverse() } else { ord };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

fn project(row: &RowRef, paths: &[Path]) -> Row {
    paths
        .iter()
        .map(|p| (p.to_string(), p.lookup_or_null(row).into_owned()))
        .collect()
}
