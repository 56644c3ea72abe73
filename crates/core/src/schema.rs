//! TableState definitions: [`TableDef`], its optional [`Schema`] of [`Column`]s, and [`IndexDef`]s.
//!
//! A definition is plain data (it is logged in `Op::CreateTable` and written into snapshots);
//! [`TableDef::validate`] checks it once, and [`Schema::conform`] checks and completes each row
//! written to a typed table. Keeping indexes in step lives in `table`, not here.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, NameKind};
use crate::limits::Limits;
use crate::path::Path;
use crate::value::{Measure, Row, Value};

/// The type of a column. `Any` accepts every value.
///
/// Serde writes the canonical lowercase name and reads every name [`FromStr`] accepts, so
/// DictDB's `"str"` and `"dict"` load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", try_from = "String")]
#[non_exhaustive]
pub enum ColumnType {
    /// Any value.
    Any,
    /// `Bool`.
    Bool,
    /// `Int`.
    Int,
    /// `Float`; an `Int` written to it is stored as the equal float (as SQLite's REAL affinity).
    Float,
    /// `Text`.
    Text,
    /// `Bytes`.
    Bytes,
    /// `Timestamp`.
    Timestamp,
    /// `List`.
    List,
    /// `Map`.
    Map,
}

impl ColumnType {
    /// The canonical name: `"any"`, `"int"`, `"text"`, ...
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            ColumnType::Any => "any",
            ColumnType::Bool => "bool",
            ColumnType::Int => "int",
            ColumnType::Float => "float",
            ColumnType::Text => "text",
            ColumnType::Bytes => "bytes",
            ColumnType::Timestamp => "timestamp",
            ColumnType::List => "list",
            ColumnType::Map => "map",
        }
    }

    /// Whether a column of this type stores `value` as it is: what [`ColumnType::coerce`]
    /// returns unchanged.
    pub(crate) fn holds(self, value: &Value) -> bool {
        matches!(
            (self, value),
            (ColumnType::Any, _)
                | (_, Value::Null)
                | (ColumnType::Bool, Value::Bool(_))
                | (ColumnType::Int, Value::Int(_))
                | (ColumnType::Float, Value::Float(_))
                | (ColumnType::Text, Value::Text(_))
                | (ColumnType::Bytes, Value::Bytes(_))
                | (ColumnType::Timestamp, Value::Timestamp(_))
                | (ColumnType::List, Value::List(_))
                | (ColumnType::Map, Value::Map(_))
        )
    }

    /// Checks `value` against this type, converting where the conversion is exact (an `Int` to a
    /// `Float` column, if the float holds it exactly). `Null` passes: nullability is checked
    /// separately. Returns the value to store, or the value back if it does not fit.
    pub(crate) fn coerce(self, value: Value) -> Result<Value, Value> {
        match (self, value) {
            (ColumnType::Any, v) | (_, v @ Value::Null) => Ok(v),
            (ColumnType::Bool, v @ Value::Bool(_))
            | (ColumnType::Int, v @ Value::Int(_))
            | (ColumnType::Float, v @ Value::Float(_))
            | (ColumnType::Text, v @ Value::Text(_))
            | (ColumnType::Bytes, v @ Value::Bytes(_))
            | (ColumnType::Timestamp, v @ Value::Timestamp(_))
            | (ColumnType::List, v @ Value::List(_))
            | (ColumnType::Map, v @ Value::Map(_)) => Ok(v),
            (ColumnType::Float, Value::Int(i)) => {
                #[expect(clippy::cast_precision_loss, reason = "checked exact just below")]
                let f = i as f64;
                if Value::Float(f) == Value::Int(i) {
                    Ok(Value::Float(f))
                } else {
                    Err(Value::Int(i))
                }
            }
            (_, v) => Err(v),
        }
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Parses a type name. Besides the canonical names it accepts the names other systems write, so
/// their schema files load: Python's `str`, `dict`, `float`, `bytes`, `datetime`, `object`, and
/// SQL's `integer`, `real`, `blob`, `string`, `boolean`.
impl FromStr for ColumnType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "any" | "object" => ColumnType::Any,
            "bool" | "boolean" => ColumnType::Bool,
            "int" | "integer" | "i64" => ColumnType::Int,
            "float" | "real" | "double" | "f64" => ColumnType::Float,
            "text" | "str" | "string" => ColumnType::Text,
            "bytes" | "blob" => ColumnType::Bytes,
            "timestamp" | "datetime" => ColumnType::Timestamp,
            "list" | "array" => ColumnType::List,
            "map" | "dict" | "object_map" => ColumnType::Map,
            _ => return Err(format!("unknown column type {s:?}")),
        })
    }
}

impl TryFrom<String> for ColumnType {
    type Error = String;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

/// One column of a typed table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    /// The column name (see [`Limits::check_name`]).
    pub name: String,
    /// The column type.
    #[serde(rename = "type")]
    pub ty: ColumnType,
    /// Whether `null` (or a missing field) is allowed. The primary key is never nullable.
    #[serde(default = "default_true")]
    pub nullable: bool,
    /// Whether values must be distinct across rows (`null`s excepted, as in SQL). Backed by a
    /// unique index named after the column.
    #[serde(default)]
    pub unique: bool,
    /// The value written when a row omits the column.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::value::some_value"
    )]
    pub default: Option<Value>,
}

fn default_true() -> bool {
    true
}

impl Column {
    /// A nullable, non-unique column without default.
    #[must_use]
    pub fn new(name: impl Into<String>, ty: ColumnType) -> Self {
        Column {
            name: name.into(),
            ty,
            nullable: true,
            unique: false,
            default: None,
        }
    }

    /// Makes the column required.
    #[must_use]
    pub fn not_null(mut self) -> Self {
        self.nullable = false;
        self
    }

    /// Makes the column unique.
    #[must_use]
    pub fn unique(mut self) -> Self {
        self.unique = true;
        self
    }

    /// Sets the default value.
    #[must_use]
    pub fn default_value(mut self, value: impl Into<Value>) -> Self {
        self.default = Some(value.into());
        self
    }
}

/// The columns of a typed table. Rows may hold only these columns.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Schema {
    /// The columns, in declaration order.
    pub columns: Vec<Column>,
}

impl Schema {
    /// The column named `name`.
    #[must_use]
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Checks `row` against the schema and completes it: fills defaults (or `null`, so a typed row
    /// always holds every column, as an SQL row does), converts exact numeric values, rejects
    /// unknown columns, type mismatches and nulls in required columns. The
    /// primary key column is skipped when `skip_pk` is given (it is checked by the table, which
    /// may assign it).
    pub(crate) fn conform<'r>(
        &self,
        table: &str,
        row: Cow<'r, Row>,
        skip_pk: Option<&str>,
    ) -> Result<Cow<'r, Row>, Error> {
        // The common case, a row that already has every column in its type (every typed write
        // of the `tabula` crate), is kept as it is: borrowed rows are not copied.
        if self.conforms(&row) {
            return Ok(row);
        }
        let mut row = row.into_owned();
        if let Some(unknown) = row.keys().find(|k| self.column(k).is_none()) {
            return Err(Error::UnknownColumn {
                table: table.to_owned(),
                column: unknown.clone(),
            });
        }
        for col in &self.columns {
            // A missing or null key is the table's to judge: it may assign one.
            if skip_pk == Some(col.name.as_str()) && row.get(&col.name).is_none_or(Value::is_null) {
                continue;
            }
            // Work on the value in place, so a present field costs no allocation.
            let slot = match row.get_mut(&col.name) {
                Some(slot) => slot,
                None => row
                    .entry(col.name.clone())
                    .or_insert_with(|| col.default.clone().unwrap_or(Value::Null)),
            };
            let value = std::mem::take(slot);
            *slot = col.ty.coerce(value).map_err(|value| Error::TypeMismatch {
                table: table.to_owned(),
                column: col.name.clone(),
                expected: col.ty,
                found: value.type_name(),
                value,
            })?;
            if slot.is_null() && !col.nullable {
                return Err(Error::NullViolation {
                    table: table.to_owned(),
                    column: col.name.clone(),
                });
            }
        }
        Ok(Cow::Owned(row))
    }

    /// Whether `row` has exactly the columns, each value already of its column's type and
    /// null only where allowed: what `conform` would return unchanged.
    fn conforms(&self, row: &Row) -> bool {
        row.len() == self.columns.len()
            && self.columns.iter().all(|col| {
                row.get(&col.name)
                    .is_some_and(|value| col.ty.holds(value) && (col.nullable || !value.is_null()))
            })
    }
}

/// An index declared on a table: ordered, and optionally unique.
///
/// An index covers one column or one nested path (`address.city`). A unique index allows any
/// number of rows whose value is `null` or missing, as SQL does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexDef {
    /// The index name (see [`Limits::check_name`]).
    pub name: String,
    /// The indexed column or path.
    pub path: Path,
    /// Whether indexed values must be distinct.
    #[serde(default)]
    pub unique: bool,
}

impl IndexDef {
    /// An ordered, non-unique index.
    #[must_use]
    pub fn new(name: impl Into<String>, path: Path) -> Self {
        IndexDef {
            name: name.into(),
            path,
            unique: false,
        }
    }

    /// A unique index.
    #[must_use]
    pub fn unique(name: impl Into<String>, path: Path) -> Self {
        IndexDef {
            name: name.into(),
            path,
            unique: true,
        }
    }
}

/// Everything that defines a table: name, primary key, optional schema and indexes.
///
/// ```
/// use tabula_core::{Column, ColumnType, TableDef};
/// let students = TableDef::new("students", "id")
///     .auto_increment()
///     .column(Column::new("id", ColumnType::Int))
///     .column(Column::new("email", ColumnType::Text).not_null().unique())
///     .column(Column::new("gpa", ColumnType::Float).default_value(0.0))
///     .index("by_gpa", "gpa");
/// assert!(students.validate(&Default::default()).is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableDef {
    /// The table name (see [`Limits::check_name`]).
    pub name: String,
    /// The primary key column.
    pub primary_key: String,
    /// Whether an insert that omits the primary key gets the next integer key.
    #[serde(default)]
    pub auto_increment: bool,
    /// The columns of a typed table, or `None` for a schemaless table that takes any fields.
    #[serde(default)]
    pub schema: Option<Schema>,
    /// Declared indexes. Unique columns get their own index and are not listed here.
    #[serde(default)]
    pub indexes: Vec<IndexDef>,
    /// For a key of several columns (SQL's `PRIMARY KEY (a, b)`): the columns it is made of,
    /// in order. The table then computes the `primary_key` column itself, as the list of their
    /// values (`[a, b]`), on every write: keys order by their first part, then the next, and a
    /// write may leave the key column out. Empty: the key is the `primary_key` column itself.
    /// See [`TableDef::key_of_parts`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_parts: Vec<String>,
}

impl TableDef {
    /// `key` as this table stores its primary keys: converted to the key column's type (an
    /// integral float to an `int` key, the same key by value), or an error when it cannot be
    /// one, so a lookup by a key of the wrong type is a mistake reported, not a row silently
    /// not found. Schemaless tables take any key.
    ///
    /// # Errors
    /// [`Error::TypeMismatch`] naming the key column.
    pub fn conform_key(&self, key: Value) -> Result<Value, Error> {
        if !self.key_parts.is_empty() {
            return self.conform_parts(key);
        }
        let Some(column) = self
            .schema
            .as_ref()
            .and_then(|schema| schema.column(&self.primary_key))
        else {
            return Ok(key);
        };
        self.conform_key_value(column, key)
    }

    /// `key` (or a key part) as `column` stores it. Keys compare by value (`Int(1)` and
    /// `Float(1.0)` are one key), so an integral float finds an `int` key.
    fn conform_key_value(&self, column: &Column, key: Value) -> Result<Value, Error> {
        let key = match (column.ty, key) {
            (ColumnType::Int, Value::Float(f))
                if f.fract() == 0.0
                    && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f) =>
            {
                #[expect(
                    clippy::cast_possible_truncation,
                    reason = "integral and in range, checked above"
                )]
                Value::Int(f as i64)
            }
            (_, key) => key,
        };
        match column.ty.coerce(key) {
            Ok(key) if !key.is_null() => Ok(key),
            Ok(key) | Err(key) => Err(Error::TypeMismatch {
                table: self.name.clone(),
                column: column.name.clone(),
                expected: column.ty,
                found: key.type_name(),
                value: key,
            }),
        }
    }

    /// A key of a table with key parts: a list of one value per part, each converted to its
    /// part's column type.
    fn conform_parts(&self, key: Value) -> Result<Value, Error> {
        let mismatch = |key: Value| Error::TypeMismatch {
            table: self.name.clone(),
            column: self.primary_key.clone(),
            expected: ColumnType::List,
            found: key.type_name(),
            value: key,
        };
        let Value::List(values) = key else {
            return Err(mismatch(key));
        };
        if values.len() != self.key_parts.len() {
            return Err(mismatch(Value::List(values)));
        }
        let schema = self.schema.as_ref();
        let parts = values
            .into_iter()
            .zip(&self.key_parts)
            .map(
                |(value, part)| match schema.and_then(|schema| schema.column(part)) {
                    Some(column) => self.conform_key_value(column, value),
                    None => Ok(value),
                },
            )
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Value::List(parts))
    }

    /// A schemaless table keyed by `primary_key`. Adding a column makes it typed.
    #[must_use]
    pub fn new(name: impl Into<String>, primary_key: impl Into<String>) -> Self {
        TableDef {
            name: name.into(),
            primary_key: primary_key.into(),
            auto_increment: false,
            schema: None,
            indexes: Vec::new(),
            key_parts: Vec::new(),
        }
    }

    /// Makes the key one of several columns, `parts` in order: the `primary_key` column (a
    /// `list` column) then holds `[part, part, ...]`, computed by the table on every write.
    ///
    /// ```
    /// use tabula_core::{Column, ColumnType, Lsn, Op, Row, State, TableDef, Timestamp};
    /// use tabula_core::{Transaction, Value};
    ///
    /// let lines = TableDef::new("order_lines", "key")
    ///     .column(Column::new("key", ColumnType::List))
    ///     .column(Column::new("order", ColumnType::Int).not_null())
    ///     .column(Column::new("line", ColumnType::Int).not_null())
    ///     .column(Column::new("qty", ColumnType::Int))
    ///     .key_parts(["order", "line"]);
    /// let row = Row::from([
    ///     ("order".to_owned(), Value::Int(7)),
    ///     ("line".to_owned(), Value::Int(1)),
    ///     ("qty".to_owned(), Value::Int(3)),
    /// ]);
    /// let mut tx = Transaction::new(Lsn(1), Timestamp::EPOCH);
    /// tx.ops = vec![
    ///     Op::CreateTable(lines),
    ///     Op::Insert { table: "order_lines".into(), row },
    /// ];
    /// let mut db = State::new();
    /// db.apply(&tx)?;
    /// let key = Value::List(vec![Value::Int(7), Value::Int(1)]);
    /// assert_eq!(db.get("order_lines", &key)?.unwrap().get("qty"), Some(Value::Int(3)));
    /// # Ok::<(), tabula_core::Error>(())
    /// ```
    #[must_use]
    pub fn key_parts<S: Into<String>>(mut self, parts: impl IntoIterator<Item = S>) -> Self {
        self.key_parts = parts.into_iter().map(Into::into).collect();
        self
    }

    /// The key of `row` computed from the key parts (for a table with [`TableDef::key_parts`];
    /// `Ok(None)` for one without): the list of the parts' values.
    ///
    /// # Errors
    /// [`Error::MissingPrimaryKey`] naming a part that is missing or null.
    pub fn key_of_parts(&self, row: &Row) -> Result<Option<Value>, Error> {
        if self.key_parts.is_empty() {
            return Ok(None);
        }
        let parts = self
            .key_parts
            .iter()
            .map(|part| match row.get(part) {
                Some(value) if !value.is_null() => Ok(value.clone()),
                _ => Err(Error::MissingPrimaryKey {
                    table: self.name.clone(),
                    column: part.clone(),
                }),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(Value::List(parts)))
    }

    /// Turns on auto-increment of the (integer) primary key.
    #[must_use]
    pub fn auto_increment(mut self) -> Self {
        self.auto_increment = true;
        self
    }

    /// Adds a column, making the table typed.
    #[must_use]
    pub fn column(mut self, column: Column) -> Self {
        self.schema
            .get_or_insert_with(Schema::default)
            .columns
            .push(column);
        self
    }

    /// Declares an ordered index named `name` on `path` (a column or `a.b.c`).
    /// An unparsable path is reported by [`TableDef::validate`].
    #[must_use]
    pub fn index(mut self, name: impl Into<String>, path: &str) -> Self {
        self.indexes
            .push(IndexDef::new(name, Path::parse_lenient(path)));
        self
    }

    /// Declares a unique index named `name` on `path`.
    #[must_use]
    pub fn unique_index(mut self, name: impl Into<String>, path: &str) -> Self {
        self.indexes
            .push(IndexDef::unique(name, Path::parse_lenient(path)));
        self
    }

    /// All indexes the table keeps: the declared ones, then one unique index per unique column
    /// (named after the column) that is not the primary key.
    #[must_use]
    pub fn all_indexes(&self) -> Vec<IndexDef> {
        let mut all = self.indexes.clone();
        if let Some(schema) = &self.schema {
            for col in schema
                .columns
                .iter()
                .filter(|c| c.unique && c.name != self.primary_key)
            {
                all.push(IndexDef::unique(
                    col.name.clone(),
                    Path::column(col.name.clone()),
                ));
            }
        }
        all
    }

    /// Checks names, the primary key, defaults and index definitions against each other and the
    /// limits.
    ///
    /// # Errors
    /// [`Error::InvalidName`], [`Error::InvalidDefinition`], [`Error::LimitExceeded`] or
    /// [`Error::IndexExists`] for a duplicate index name.
    pub fn validate(&self, limits: &Limits) -> Result<(), Error> {
        limits.check_name(NameKind::Table, &self.name)?;
        limits.check_name(NameKind::Column, &self.primary_key)?;
        let invalid = |reason: String| Error::InvalidDefinition {
            table: self.name.clone(),
            reason,
        };
        if let Some(schema) = &self.schema {
            if schema.columns.len() > limits.max_columns {
                return Err(Error::LimitExceeded {
                    what: format!("column count of table {:?}", self.name),
                    limit: limits.max_columns,
                    actual: schema.columns.len(),
                });
            }
            for (i, col) in schema.columns.iter().enumerate() {
                self.validate_column(col, limits)?;
                if schema.columns.iter().take(i).any(|c| c.name == col.name) {
                    return Err(invalid(format!("column {:?} is declared twice", col.name)));
                }
            }
            let pk = schema.column(&self.primary_key).ok_or_else(|| {
                invalid(format!(
                    "primary key {:?} is not a column",
                    self.primary_key
                ))
            })?;
            if pk.default.is_some() {
                // A default key would give every row that omits it the same key.
                return Err(invalid(format!(
                    "primary key {:?} cannot have a default",
                    pk.name
                )));
            }
            self.validate_key_parts(schema, pk)?;
            if self.auto_increment && !matches!(pk.ty, ColumnType::Int | ColumnType::Any) {
                return Err(invalid(format!(
                    "auto-increment primary key {:?} must be int, not {}",
                    pk.name, pk.ty
                )));
            }
        }
        if self.schema.is_none() && !self.key_parts.is_empty() {
            return Err(invalid(
                "a key of several columns needs a typed table (columns to make it of)".into(),
            ));
        }
        let all = self.all_indexes();
        if all.len() > limits.max_indexes {
            return Err(Error::LimitExceeded {
                what: format!("index count of table {:?}", self.name),
                limit: limits.max_indexes,
                actual: all.len(),
            });
        }
        for (i, index) in all.iter().enumerate() {
            self.validate_index(index, limits)?;
            if all.iter().take(i).any(|other| other.name == index.name) {
                return Err(Error::IndexExists {
                    table: self.name.clone(),
                    index: index.name.clone(),
                });
            }
        }
        Ok(())
    }

    /// Checks the key parts of a typed table: distinct existing columns other than the key
    /// column, which must be able to hold their list, and no auto-increment.
    fn validate_key_parts(&self, schema: &Schema, pk: &Column) -> Result<(), Error> {
        if self.key_parts.is_empty() {
            return Ok(());
        }
        let invalid = |reason: String| Error::InvalidDefinition {
            table: self.name.clone(),
            reason,
        };
        if self.auto_increment {
            return Err(invalid(
                "a key of several columns cannot auto-increment".into(),
            ));
        }
        if !matches!(pk.ty, ColumnType::List | ColumnType::Any) {
            return Err(invalid(format!(
                "the key column {:?} of a key of several columns holds their list: it must be \
                 list, not {}",
                pk.name, pk.ty
            )));
        }
        for (i, part) in self.key_parts.iter().enumerate() {
            if *part == self.primary_key {
                return Err(invalid(format!(
                    "the key column {part:?} cannot be one of its own parts"
                )));
            }
            if schema.column(part).is_none() {
                return Err(invalid(format!("key part {part:?} is not a column")));
            }
            if self.key_parts.iter().take(i).any(|p| p == part) {
                return Err(invalid(format!("key part {part:?} is listed twice")));
            }
        }
        Ok(())
    }

    /// Whether `column` is the key column or one of the key parts: what a schema change may
    /// not drop, rename or retype.
    #[must_use]
    pub fn is_key_column(&self, column: &str) -> bool {
        column == self.primary_key || self.key_parts.iter().any(|p| p == column)
    }

    /// Checks one column's name and default.
    pub(crate) fn validate_column(&self, col: &Column, limits: &Limits) -> Result<(), Error> {
        limits.check_name(NameKind::Column, &col.name)?;
        if let Some(default) = &col.default {
            // In a row the default sits one level down, so it may be one level less deep.
            let max_depth = limits.max_depth.saturating_sub(1);
            let m = Measure::of(default, max_depth);
            let what = |what: &str| {
                format!(
                    "{what} of the default of column {:?} of table {:?}",
                    col.name, self.name
                )
            };
            if m.depth > max_depth {
                return Err(Error::LimitExceeded {
                    what: what("nesting depth"),
                    limit: max_depth,
                    actual: m.depth,
                });
            }
            if m.size > limits.max_record_size {
                return Err(Error::LimitExceeded {
                    what: what("size"),
                    limit: limits.max_record_size,
                    actual: m.size,
                });
            }
            let stored = col
                .ty
                .coerce(default.clone())
                .map_err(|v| Error::TypeMismatch {
                    table: self.name.clone(),
                    column: col.name.clone(),
                    expected: col.ty,
                    found: v.type_name(),
                    value: v,
                })?;
            if stored.is_null() && !col.nullable {
                return Err(Error::NullViolation {
                    table: self.name.clone(),
                    column: col.name.clone(),
                });
            }
        }
        Ok(())
    }

    /// Checks one index's name and path (its first segment must be a column of a typed table).
    pub(crate) fn validate_index(&self, index: &IndexDef, limits: &Limits) -> Result<(), Error> {
        limits.check_name(NameKind::Index, &index.name)?;
        index.path.validate(limits)?;
        if let Some(schema) = &self.schema {
            let first = index.path.first();
            if schema.column(first).is_none() {
                return Err(Error::UnknownColumn {
                    table: self.name.clone(),
                    column: first.to_owned(),
                });
            }
        }
        if index.path.segments().len() == 1 && index.path.first() == self.primary_key {
            return Err(Error::InvalidDefinition {
                table: self.name.clone(),
                reason: format!("index {:?} would duplicate the primary key", index.name),
            });
        }
        Ok(())
    }
}
