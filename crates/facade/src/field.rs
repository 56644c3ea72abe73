//! [`Field`]: a typed handle on one column of a [`crate::Record`], for filters that the compiler
//! checks. `#[derive(Record)]` on `Student` makes `StudentFields` and `Student::FIELDS`, so that
//! `Student::FIELDS.gpa.ge(3.5)` is a filter on `gpa` that only takes what converts to an `f64`,
//! and a misspelt field does not compile.

use std::collections::{BTreeSet, HashSet, VecDeque};
use std::fmt;
use std::marker::PhantomData;

use serde::Serialize;
use tabula_core::{ColumnType, Filter, Value, to_value};

use crate::record::typed_value;

/// A column of type `T`. Methods build [`Filter`]s with typed operands.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use tabula::{Database, Record};
///
/// #[derive(Debug, Serialize, Deserialize, Record)]
/// struct Student {
///     #[tabula(primary_key)]
///     id: i64,
///     name: String,
///     gpa: f64,
///     nickname: Option<String>,
///     clubs: Vec<String>,
/// }
///
/// let db = Database::open_in_memory();
/// let students = db.table::<Student>()?;
/// let clubs = vec!["chess".to_owned()];
/// students.insert(&Student { id: 1, name: "Ada".into(), gpa: 3.9, nickname: None, clubs })?;
/// let (nickname, clubs) = (Some("Al".into()), vec![]);
/// students.insert(&Student { id: 2, name: "Alan".into(), gpa: 3.4, nickname, clubs })?;
/// let f = Student::FIELDS;
/// assert_eq!(students.filter(f.clubs.contains("chess"))?.len(), 1);
/// assert_eq!(students.filter(f.gpa.ge(3.5))?.len(), 1);
/// assert_eq!(students.filter(f.name.eq("Alan").and(f.nickname.is_null().negate()))?.len(), 1);
/// assert_eq!(students.filter(f.id.is_in([1, 2]))?.len(), 2);
/// assert_eq!(f.gpa.name(), "gpa");
/// # Ok::<(), tabula::Error>(())
/// ```
pub struct Field<T> {
    name: &'static str,
    ty: ColumnType,
    _type: PhantomData<fn() -> T>,
}

impl<T> Field<T> {
    /// The field named `name`, of a column of any type.
    #[must_use]
    pub const fn new(name: &'static str) -> Self {
        Field::with_type(name, ColumnType::Any)
    }

    /// The field named `name` whose column has type `ty` (the derive makes these): operands
    /// convert as the table converts the field's values.
    #[must_use]
    pub const fn with_type(name: &'static str, ty: ColumnType) -> Self {
        Field {
            name,
            ty,
            _type: PhantomData,
        }
    }

    /// The column's name.
    #[must_use]
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// Rows whose value is null or missing.
    #[must_use]
    pub fn is_null(&self) -> Filter {
        Filter::is_null(self.name)
    }
}

/// Operands convert through serde, as the table converts the field (so enums, unsigned
/// integers, lists and nested structs compare as they are stored). A value the column cannot
/// hold (a `u64` past `i64::MAX`) gives a filter that fails with its reason when it runs.
impl<T: Serialize> Field<T> {
    fn operand(&self, value: &T) -> Result<Value, String> {
        to_value(value)
            .map(|value| typed_value(self.ty, value))
            .map_err(|e| format!("field {:?}: {}", self.name, e.0))
    }

    fn leaf(&self, value: &T, make: impl FnOnce(&'static str, Value) -> Filter) -> Filter {
        match self.operand(value) {
            Ok(value) => make(self.name, value),
            Err(reason) => Filter::Invalid(reason),
        }
    }

    /// Equal to `value`.
    #[must_use]
    pub fn eq(&self, value: impl Into<T>) -> Filter {
        self.leaf(&value.into(), Filter::eq)
    }

    /// Not equal to `value` (also rows where it is missing).
    #[must_use]
    pub fn ne(&self, value: impl Into<T>) -> Filter {
        self.leaf(&value.into(), Filter::ne)
    }

    /// Greater than `value`.
    #[must_use]
    pub fn gt(&self, value: impl Into<T>) -> Filter {
        self.leaf(&value.into(), Filter::gt)
    }

    /// Greater than or equal to `value`.
    #[must_use]
    pub fn ge(&self, value: impl Into<T>) -> Filter {
        self.leaf(&value.into(), Filter::ge)
    }

    /// Less than `value`.
    #[must_use]
    pub fn lt(&self, value: impl Into<T>) -> Filter {
        self.leaf(&value.into(), Filter::lt)
    }

    /// Less than or equal to `value`.
    #[must_use]
    pub fn le(&self, value: impl Into<T>) -> Filter {
        self.leaf(&value.into(), Filter::le)
    }

    /// Between `low` and `high`, both included.
    #[must_use]
    pub fn between(&self, low: impl Into<T>, high: impl Into<T>) -> Filter {
        match (self.operand(&low.into()), self.operand(&high.into())) {
            (Ok(low), Ok(high)) => Filter::between(self.name, low, high),
            (Err(reason), _) | (_, Err(reason)) => Filter::Invalid(reason),
        }
    }

    /// Equal to one of `values`.
    #[must_use]
    pub fn is_in<V: Into<T>>(&self, values: impl IntoIterator<Item = V>) -> Filter {
        let values: Result<Vec<Value>, String> = values
            .into_iter()
            .map(|v| self.operand(&v.into()))
            .collect();
        match values {
            Ok(values) => Filter::is_in(self.name, values),
            Err(reason) => Filter::Invalid(reason),
        }
    }
}

/// `contains` for the collection fields (`Vec`, `VecDeque`, `BTreeSet`, `HashSet`): stored as
/// lists, matched by element.
macro_rules! contains {
    ($($collection:ident),*) => {$(
        impl<U: Serialize> Field<$collection<U>> {
            /// Rows whose list has an element equal to `item`.
            #[must_use]
            pub fn contains(&self, item: impl Into<U>) -> Filter {
                match to_value(&item.into()) {
                    Ok(item) => Filter::contains(self.name, item),
                    Err(e) => Filter::Invalid(format!("field {:?}: {}", self.name, e.0)),
                }
            }
        }
    )*};
}

contains!(Vec, VecDeque, BTreeSet, HashSet);

// By hand: derived impls would ask `T` for the same traits, which the marker does not need.
impl<T> Clone for Field<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Field<T> {}

impl<T> fmt::Debug for Field<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Field").field(&self.name).finish()
    }
}
