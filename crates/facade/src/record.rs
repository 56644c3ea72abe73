//! [`Record`]: a Rust struct that is a table's row type, and the conversions and schema check
//! between the struct and the stored table.

use serde::Serialize;
use serde::de::DeserializeOwned;
use tabula_core::{Column, ColumnType, Row, TableDef, Timestamp, Value};

use crate::{Error, Result};
use tabula_core::{RowRef, from_row_ref, to_value};

/// A struct that is the row type of a table. Derive it with `#[derive(Record)]` (with serde's
/// `Serialize` and `Deserialize`):
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use tabula::Record;
///
/// #[derive(Debug, Serialize, Deserialize, Record)]
/// #[tabula(table = "students")]
/// struct Student {
///     #[tabula(primary_key, auto_increment)]
///     id: Option<i64>,
///     name: String,
///     #[tabula(unique)]
///     email: String,
///     #[tabula(index, default = 0.0)]
///     gpa: f64,
///     nickname: Option<String>,
/// }
///
/// let def = Student::definition();
/// assert_eq!((def.name.as_str(), def.primary_key.as_str()), ("students", "id"));
/// assert!(def.auto_increment);
/// let schema = def.schema.unwrap();
/// assert!(schema.column("email").unwrap().unique);
/// assert!(!schema.column("name").unwrap().nullable);
/// assert!(schema.column("nickname").unwrap().nullable);
/// ```
///
/// Field attributes: `primary_key` (on one field, or on several for a key of several fields),
/// `auto_increment` (on a one-field key: an `Option<i64>` key that is `None` gets the next
/// integer), `unique`, `index` (named `by_<field>`), `nullable`, `default = <expr>`,
/// `type = "<column type>"`. Column types follow the field types; see `tabula-derive`. Columns
/// are named as serde names the fields (`rename`, `rename_all`).
///
/// A key of several fields, as SQL's `PRIMARY KEY (order_id, line)`: [`Record::Key`] is the
/// tuple of their types, rows are in key order (the first field, then the next), and the
/// table keeps the tuple in a `list` column named `key` (`#[tabula(key = "..")]` on the
/// struct names it otherwise), which it computes from the fields on every write:
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use tabula::{Database, Record};
///
/// #[derive(Debug, Serialize, Deserialize, Record)]
/// struct OrderLine {
///     #[tabula(primary_key)]
///     order_id: u64,
///     #[tabula(primary_key)]
///     line: u32,
///     qty: i64,
/// }
///
/// let db = Database::open_in_memory();
/// let lines = db.table::<OrderLine>()?;
/// let key: (u64, u32) = lines.insert(&OrderLine { order_id: 7, line: 1, qty: 3 })?;
/// assert_eq!(lines.get(key)?.unwrap().qty, 3);
/// assert_eq!(lines.get((7, 1))?.unwrap().qty, 3);
/// # Ok::<(), tabula::Error>(())
/// ```
pub trait Record: Serialize + DeserializeOwned {
    /// The primary key's type: the key field's type (`i64` for an auto-increment
    /// `Option<i64>` key), or a tuple of the key fields' types for a key of several fields.
    /// `insert` returns it; `get`, `update`, `delete` and `history` take it (or anything that
    /// serializes as the key: `get(&key)`, `get(5)`, `get(5u64)`).
    type Key: Serialize + DeserializeOwned + Send + 'static;
    /// The table's name.
    const TABLE: &'static str;
    /// The table's definition: columns, key, indexes.
    fn definition() -> TableDef;

    /// This record as a row of its table, ready for any [`Op`](tabula_core::Op) or
    /// transaction: timestamps and bytes typed as their columns say, and a `None`
    /// auto-increment key left out so that the table assigns one.
    ///
    /// ```
    /// use serde::{Deserialize, Serialize};
    /// use tabula::{Database, Op, Record, Timestamp, Value};
    ///
    /// #[derive(Debug, PartialEq, Serialize, Deserialize, Record)]
    /// struct Event {
    ///     #[tabula(primary_key, auto_increment)]
    ///     id: Option<i64>,
    ///     at: Timestamp,
    /// }
    ///
    /// let db = Database::open_in_memory();
    /// db.create_table(Event::definition())?;
    /// let event = Event { id: None, at: Timestamp::from_micros(1_000_000) };
    /// let row = event.to_row()?;
    /// assert_eq!(row["at"], Value::Timestamp(Timestamp::from_micros(1_000_000)));
    /// db.commit(vec![Op::Insert { table: Event::TABLE.into(), row }])?;
    /// let stored = db.read().get(Event::TABLE, &Value::Int(1))?.cloned().unwrap();
    /// assert_eq!(Event::from_row(&stored)?, Event { id: Some(1), ..event });
    /// # Ok::<(), tabula::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Convert`] if it does not serialize as a struct or map.
    fn to_row(&self) -> Result<Row>
    where
        Self: Sized,
    {
        to_row(self, &Self::definition())
    }

    /// A record from a row of its table, as reads return it (a [`RowRef`]; a [`Row`] map
    /// converts with `RowRef::from(&row)`).
    ///
    /// # Errors
    /// [`Error::Convert`] if the row does not deserialize as `Self`.
    fn from_row(row: &RowRef) -> Result<Self>
    where
        Self: Sized,
    {
        from_row(row, Self::TABLE)
    }
}

/// `record` as a row of the table `def`: timestamps (which serde gives as microseconds) and
/// bytes (a list of small integers) typed as their columns say; a null auto-increment key left
/// out, so that the table assigns one.
pub(crate) fn to_row<T: Serialize>(record: &T, def: &TableDef) -> Result<Row> {
    let convert = |message: String| Error::Convert {
        table: def.name.clone(),
        message,
    };
    let Value::Map(mut row) = to_value(record).map_err(|e| convert(e.0))? else {
        return Err(convert(
            "a record must serialize as a map or a struct".into(),
        ));
    };
    if let Some(schema) = &def.schema {
        for column in &schema.columns {
            if let Some(value) = row.get_mut(&column.name) {
                *value = typed_value(column.ty, std::mem::take(value));
            }
        }
    }
    if def.auto_increment && row.get(&def.primary_key) == Some(&Value::Null) {
        row.remove(&def.primary_key);
    }
    // A key of several fields, as the table will compute it, so that every typed call finds
    // the record's key in its row (parts missing: the table reports which).
    if let Ok(Some(key)) = def.key_of_parts(&row) {
        row.insert(def.primary_key.clone(), key);
    }
    Ok(row)
}

/// A key the table reports (an insert's) as `T`'s key type.
pub(crate) fn key_from<T: Record>(key: Value) -> Result<T::Key> {
    tabula_core::from_value(key).map_err(|e| Error::Convert {
        table: T::TABLE.to_owned(),
        message: format!("key: {}", e.0),
    })
}

/// A key given to a typed call (anything serde serializes: integers of every width, text, a
/// `Value`, ...), converted as the table converts its key field and then to the key column's
/// type: `get(5u64)` finds key 5, and a key the column cannot hold is a typed error, not a row
/// silently not found.
pub(crate) fn key_value<K: Serialize + ?Sized>(def: &TableDef, key: &K) -> Result<Value> {
    let value = to_value(key).map_err(|e| Error::Convert {
        table: def.name.clone(),
        message: format!("key: {}", e.0),
    })?;
    let ty = def
        .schema
        .as_ref()
        .and_then(|schema| schema.column(&def.primary_key))
        .map_or(ColumnType::Any, |column| column.ty);
    // The common case, a key already of its column's type, needs no conversion (reads are
    // measured in hundreds of nanoseconds: this path is on every typed get).
    match (ty, value) {
        (ColumnType::Int, value @ Value::Int(_)) | (ColumnType::Text, value @ Value::Text(_)) => {
            Ok(value)
        }
        // A key of several fields, a tuple: each part converted as its field is.
        (_, Value::List(parts)) if !def.key_parts.is_empty() => {
            let parts = parts
                .into_iter()
                .enumerate()
                .map(|(i, value)| {
                    let ty = def
                        .key_parts
                        .get(i)
                        .and_then(|part| def.schema.as_ref()?.column(part))
                        .map_or(ColumnType::Any, |column| column.ty);
                    typed_value(ty, value)
                })
                .collect();
            // A tuple of the wrong length is the key column's type mismatch, said there.
            Ok(def.conform_key(Value::List(parts))?)
        }
        (ty, value) => Ok(def.conform_key(typed_value(ty, value))?),
    }
}

/// A value serde made for a column of type `ty`, typed as the column says: timestamps (which
/// serde gives as microseconds for tabula's own, RFC 3339 text for chrono's and jiff's, a
/// tuple of fields for time's) and bytes (a list of small integers). Shared by rows and by
/// typed filters' operands, so both convert a field the same way.
pub(crate) fn typed_value(ty: ColumnType, value: Value) -> Value {
    match (ty, value) {
        (ColumnType::Timestamp, Value::Int(micros)) => {
            Value::Timestamp(Timestamp::from_micros(micros))
        }
        // chrono's and jiff's date-times serialize as RFC 3339 text.
        (ColumnType::Timestamp, Value::Text(text)) => match text.parse::<Timestamp>() {
            Ok(t) => Value::Timestamp(t),
            Err(_) => Value::Text(text),
        },
        // time's, as a tuple of their fields (see `Timestamp::from_time_tuple`).
        (ColumnType::Timestamp, Value::List(items)) => {
            let fields: Option<Vec<i64>> = items.iter().map(Value::as_int).collect();
            match fields.as_deref().and_then(Timestamp::from_time_tuple) {
                Some(t) => Value::Timestamp(t),
                None => Value::List(items),
            }
        }
        (ColumnType::Bytes, Value::List(items)) => {
            let bytes: Option<Vec<u8>> = items
                .iter()
                .map(|v| match v {
                    Value::Int(i) => u8::try_from(*i).ok(),
                    _ => None,
                })
                .collect();
            match bytes {
                Some(bytes) => Value::Bytes(bytes),
                None => Value::List(items),
            }
        }
        (_, value) => value,
    }
}

/// A record from a stored row of `table`, read straight from its packed bytes (no map, no
/// `Value` per field: building those cost more than the lookup).
pub(crate) fn from_row<T: DeserializeOwned>(row: &RowRef, table: &str) -> Result<T> {
    from_row_ref(row).map_err(|e| Error::Convert {
        table: table.to_owned(),
        message: e.0,
    })
}

/// A record from a row stored under an older schema (read through `history` or `as_of`): the
/// columns `T` has and the row lacks (added by a later migration) take their default, or
/// `null`, as the migration gave the rows it found. The packed fast path first; the map only
/// when that fails.
pub(crate) fn from_old_row<T: Record>(row: &RowRef, table: &str) -> Result<T> {
    match from_row(row, table) {
        Ok(record) => Ok(record),
        Err(error) => {
            let Some(schema) = T::definition().schema else {
                return Err(error);
            };
            let mut map = row.to_row();
            let mut filled = false;
            for column in &schema.columns {
                if !map.contains_key(&column.name) {
                    let value = column.default.clone().unwrap_or(Value::Null);
                    map.insert(column.name.clone(), value);
                    filled = true;
                }
            }
            if !filled {
                return Err(error);
            }
            tabula_core::from_map_ref(&map).map_err(|e| Error::Convert {
                table: table.to_owned(),
                message: e.0,
            })
        }
    }
}

/// A column of `T`'s table by field name, as `T`'s definition declares it (type, nullability,
/// default, uniqueness): for [`MigrationExt::add_field`].
fn column_of<T: Record>(field: &str) -> std::result::Result<Column, String> {
    let definition = T::definition();
    definition
        .schema
        .as_ref()
        .and_then(|schema| schema.column(field))
        .cloned()
        .ok_or_else(|| format!("the struct of table {:?} has no field {field:?}", T::TABLE))
}

/// Migration steps taken from a record's struct, so the schema says what the struct does.
pub trait MigrationExt {
    /// Adds the column for `T`'s field `field` to `T`'s table, as `T` declares it: type,
    /// nullability, default, uniqueness. Existing rows get the default; a field that is neither
    /// an `Option` nor has `#[tabula(default = ..)]` cannot be added to a table with rows (they
    /// would have no value), and the migration says so, naming the field.
    ///
    /// ```
    /// use serde::{Deserialize, Serialize};
    /// use tabula::{Database, Migration, MigrationExt, Record};
    ///
    /// #[derive(Serialize, Deserialize, Record)]
    /// #[tabula(table = "customers")]
    /// struct Customer {
    ///     #[tabula(primary_key)]
    ///     id: i64,
    ///     #[tabula(default = 0)]
    ///     loyalty_points: i64,
    /// }
    ///
    /// let migration = Migration::new(2, "loyalty").add_field::<Customer>("loyalty_points");
    /// # let _ = (migration, Database::open_in_memory());
    /// ```
    #[must_use]
    fn add_field<T: Record>(self, field: &str) -> Self;

    /// Makes the column of `T`'s field `field` as nullable as `T` declares it: `NOT NULL` for
    /// a field that is not an `Option` (rows without a value get its `#[tabula(default = ..)]`,
    /// and without one the migration fails naming a row), nullable for an `Option`. The step
    /// for a field whose `Option` was removed or added.
    ///
    /// ```
    /// use serde::{Deserialize, Serialize};
    /// use tabula::{Database, Migration, MigrationExt, Record};
    ///
    /// #[derive(Serialize, Deserialize, Record)]
    /// #[tabula(table = "customers")]
    /// struct Customer {
    ///     #[tabula(primary_key)]
    ///     id: i64,
    ///     #[tabula(default = 0)]
    ///     loyalty_points: i64, // was Option<i64>
    /// }
    ///
    /// let migration = Migration::new(3, "points required")
    ///     .set_field_nullability::<Customer>("loyalty_points");
    /// # let _ = (migration, Database::open_in_memory());
    /// ```
    #[must_use]
    fn set_field_nullability<T: Record>(self, field: &str) -> Self;
}

impl MigrationExt for tabula_engine::Migration {
    fn add_field<T: Record>(self, field: &str) -> Self {
        let column = match column_of::<T>(field) {
            Ok(column) => column,
            Err(reason) => return self.custom(move |_| Err(reason.clone())),
        };
        let required = !column.nullable && column.default.is_none();
        let field = field.to_owned();
        // The engine's step refuses such a column too, with a null violation; this says why and
        // what to do, naming the field.
        self.custom(move |db| {
            if required && db.table(T::TABLE).is_some_and(|t| !t.is_empty()) {
                return Err(format!(
                    "field {field:?} of table {:?} is not nullable and has no default, so the \
                     rows already there would have no value: give it #[tabula(default = ..)] or \
                     make it an Option",
                    T::TABLE
                ));
            }
            Ok(Vec::new())
        })
        .add_column(T::TABLE, column)
    }

    fn set_field_nullability<T: Record>(self, field: &str) -> Self {
        match column_of::<T>(field) {
            Ok(column) if column.nullable => self.set_nullable(T::TABLE, field),
            Ok(column) => self.set_not_null(T::TABLE, field, column.default.unwrap_or(Value::Null)),
            Err(reason) => self.custom(move |_| Err(reason.clone())),
        }
    }
}

fn column_text(column: &Column) -> String {
    let mut text = format!("{} {}", column.name, column.ty.name());
    if !column.nullable {
        text.push_str(" not null");
    }
    if column.unique {
        text.push_str(" unique");
    }
    if let Some(default) = &column.default {
        text.push_str(&format!(" default {default:?}"));
    }
    text
}

/// The first difference between the stored definition and the struct's, as the error that
/// says which migration would fix it.
pub(crate) fn ensure_compatible(stored: &TableDef, wanted: &TableDef) -> Result<()> {
    let mismatch = |field: &str, detail: String| {
        Err(Error::SchemaMismatch {
            table: wanted.name.clone(),
            field: field.to_owned(),
            detail,
        })
    };
    if stored.primary_key != wanted.primary_key {
        return mismatch(
            "primary key",
            format!(
                "the table is keyed by {:?}, the struct by {:?}; copy the rows into a new table",
                stored.primary_key, wanted.primary_key
            ),
        );
    }
    if stored.key_parts != wanted.key_parts {
        return mismatch(
            "primary key",
            format!(
                "the table's key is made of {:?}, the struct's of {:?}; copy the rows into a \
                 new table",
                stored.key_parts, wanted.key_parts
            ),
        );
    }
    if stored.auto_increment != wanted.auto_increment {
        return mismatch(
            &wanted.primary_key,
            format!(
                "auto_increment is {} in the table and {} in the struct",
                stored.auto_increment, wanted.auto_increment
            ),
        );
    }
    let (Some(have), Some(want)) = (&stored.schema, &wanted.schema) else {
        return mismatch(
            "schema",
            "the stored table is schemaless; a typed struct needs a typed table".into(),
        );
    };
    for column in &want.columns {
        match have.column(&column.name) {
            None => {
                return mismatch(
                    &column.name,
                    format!(
                        "the struct has a new field ({}); add it with a migration: \
                         Migration::new(..).add_field::<TheStruct>({:?}) (MigrationExt), \
                         or rename_column if it was renamed",
                        column_text(column),
                        column.name
                    ),
                );
            }
            Some(old) if old.ty != column.ty => {
                return mismatch(
                    &column.name,
                    format!(
                        "its type changed from {} to {}; convert it with a migration: \
                         Migration::change_type",
                        old.ty.name(),
                        column.ty.name()
                    ),
                );
            }
            Some(old) if old != column => {
                return mismatch(
                    &column.name,
                    format!(
                        "its constraints changed from ({}) to ({}); change them with a \
                         migration step",
                        column_text(old),
                        column_text(column)
                    ),
                );
            }
            Some(_) => {}
        }
    }
    if let Some(gone) = have.columns.iter().find(|c| want.column(&c.name).is_none()) {
        return mismatch(
            &gone.name,
            format!(
                "the table has a column the struct lacks ({}); remove it with a migration: \
                 Migration::drop_column, or rename_column if it was renamed",
                column_text(gone)
            ),
        );
    }
    for index in &wanted.indexes {
        if !stored.indexes.contains(index) {
            return mismatch(
                &index.path.to_string(),
                format!(
                    "the struct declares the index {:?}, which the table lacks; add it with a \
                     migration step (Op::CreateIndex)",
                    index.name
                ),
            );
        }
    }
    // The index a time-to-live rule makes is the engine's, not the struct's.
    let extra = stored
        .indexes
        .iter()
        .find(|i| !wanted.indexes.contains(i) && i.name != tabula_engine::TTL_INDEX);
    if let Some(extra) = extra {
        return mismatch(
            &extra.path.to_string(),
            format!(
                "the table has the index {:?}, which the struct does not declare; drop it with \
                 a migration step (Op::DropIndex)",
                extra.name
            ),
        );
    }
    Ok(())
}
