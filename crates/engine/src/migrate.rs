//! Versioned schema migrations, as Kajson's migrations, Django's or refinery's: a list of
//! [`Migration`]s, each a version number and steps (add a column with a default, rename, drop,
//! change a type with a conversion, or a custom transaction), given to [`Engine::migrate`] right
//! after open.
//!
//! Each migration the database has not had yet runs, in version order, as **one transaction** of
//! ordinary ops (so it is logged, replayed, visible in history and time travel) that also records
//! the new schema version in `_tabula_meta`. A failing migration commits nothing:
//! [`Error::Migration`] names it and the database stays at the previous version; the ones
//! before it stay applied.

use std::fmt;
use std::sync::Arc;

use tabula_core::{Cause, Column, ColumnType, Op, Row, SchemaChange, State, TableDef, Value};

use crate::db::Engine;
use crate::system::{self, is_reserved};
use crate::{Error, Result};

const VERSION_KEY: &str = "schema_version";

type Convert = Arc<dyn Fn(&Value) -> std::result::Result<Value, String> + Send + Sync>;
type Custom = Arc<dyn Fn(&State) -> std::result::Result<Vec<Op>, String> + Send + Sync>;

#[derive(Clone)]
enum Step {
    AddColumn {
        table: String,
        column: Column,
    },
    RenameColumn {
        table: String,
        from: String,
        to: String,
    },
    DropColumn {
        table: String,
        column: String,
    },
    ChangeType {
        table: String,
        column: String,
        ty: ColumnType,
        convert: Convert,
    },
    SetNullable {
        table: String,
        column: String,
        nullable: bool,
        /// For `NOT NULL`: the value null and missing fields get first (`Null`: none may be).
        fill: Value,
    },
    Custom(Custom),
}

/// One schema version: its number, a name, and the steps that reach it from the one before.
#[derive(Clone)]
pub struct Migration {
    version: u64,
    name: String,
    steps: Vec<Step>,
}

impl fmt::Debug for Migration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Migration")
            .field("version", &self.version)
            .field("name", &self.name)
            .field("steps", &self.steps.len())
            .finish()
    }
}

impl Migration {
    /// Migration to `version` (at least 1), called `name` in the log's cause.
    #[must_use]
    pub fn new(version: u64, name: impl Into<String>) -> Migration {
        Migration {
            version,
            name: name.into(),
            steps: Vec::new(),
        }
    }

    /// The version this migration reaches.
    #[must_use]
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Adds `column` to the typed table `table`; existing rows get its default (a `NOT NULL`
    /// column without a default fails on a table with rows, as in SQLite).
    #[must_use]
    pub fn add_column(mut self, table: impl Into<String>, column: Column) -> Migration {
        self.steps.push(Step::AddColumn {
            table: table.into(),
            column,
        });
        self
    }

    /// Renames a column (and the field in every row).
    #[must_use]
    pub fn rename_column(
        mut self,
        table: impl Into<String>,
        from: impl Into<String>,
        to: impl Into<String>,
    ) -> Migration {
        self.steps.push(Step::RenameColumn {
            table: table.into(),
            from: from.into(),
            to: to.into(),
        });
        self
    }

    /// Drops a column (and the field from every row).
    #[must_use]
    pub fn drop_column(mut self, table: impl Into<String>, column: impl Into<String>) -> Migration {
        self.steps.push(Step::DropColumn {
            table: table.into(),
            column: column.into(),
        });
        self
    }

    /// Changes a column's type to `ty`, converting each row's value with `convert` (`Null` and
    /// missing fields are left alone). A conversion error fails the migration. The rows stay
    /// (each converted value is an update in the history); a key column's table is rebuilt
    /// instead, its rows inserted again under their converted keys.
    #[must_use]
    pub fn change_type(
        mut self,
        table: impl Into<String>,
        column: impl Into<String>,
        ty: ColumnType,
        convert: impl Fn(&Value) -> std::result::Result<Value, String> + Send + Sync + 'static,
    ) -> Migration {
        self.steps.push(Step::ChangeType {
            table: table.into(),
            column: column.into(),
            ty,
            convert: Arc::new(convert),
        });
        self
    }

    /// Lets `column` of `table` hold null (SQL's `ALTER COLUMN .. DROP NOT NULL`).
    #[must_use]
    pub fn set_nullable(
        mut self,
        table: impl Into<String>,
        column: impl Into<String>,
    ) -> Migration {
        self.steps.push(Step::SetNullable {
            table: table.into(),
            column: column.into(),
            nullable: true,
            fill: Value::Null,
        });
        self
    }

    /// Makes `column` of `table` `NOT NULL` (SQL's `ALTER COLUMN .. SET NOT NULL`): rows where
    /// it is null or missing get `fill` first. With `fill` `Value::Null` the step fails, naming
    /// a row, if any row has no value, as SQLite and PostgreSQL refuse.
    ///
    /// ```
    /// use tabula_core::{Column, ColumnType, Op, Row, TableDef, Value};
    /// use tabula_engine::{Engine, Migration, Options};
    ///
    /// let engine = Engine::in_memory(Options::new());
    /// let def = TableDef::new("t", "id")
    ///     .column(Column::new("id", ColumnType::Int))
    ///     .column(Column::new("points", ColumnType::Int));
    /// let row = Row::from([("id".to_owned(), Value::Int(1))]);
    /// engine.commit(vec![Op::CreateTable(def), Op::Insert { table: "t".into(), row }])?;
    /// engine.migrate(&[Migration::new(1, "points required").set_not_null("t", "points", 0)])?;
    /// let view = engine.read();
    /// let points = view.table("t").unwrap().def().schema.as_ref().unwrap().column("points");
    /// assert!(!points.unwrap().nullable);
    /// assert_eq!(view.get("t", &Value::Int(1))?.unwrap().get("points"), Some(Value::Int(0)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn set_not_null(
        mut self,
        table: impl Into<String>,
        column: impl Into<String>,
        fill: impl Into<Value>,
    ) -> Migration {
        self.steps.push(Step::SetNullable {
            table: table.into(),
            column: column.into(),
            nullable: false,
            fill: fill.into(),
        });
        self
    }

    /// A custom step: the ops `build` makes from the state as the earlier steps left it.
    #[must_use]
    pub fn custom(
        mut self,
        build: impl Fn(&State) -> std::result::Result<Vec<Op>, String> + Send + Sync + 'static,
    ) -> Migration {
        self.steps.push(Step::Custom(Arc::new(build)));
        self
    }

    /// The ops of every step, each step seeing the state the earlier ones made.
    fn ops(&self, db: &State) -> Result<Vec<Op>> {
        let mut state = db.clone();
        let mut all = Vec::new();
        for step in &self.steps {
            let ops = step_ops(step, &state)?;
            if let Some(op) = ops.iter().find(|op| is_reserved(op.table())) {
                return Err(Error::ReservedTable {
                    table: op.table().to_owned(),
                });
            }
            // Applied to a scratch copy only so that the next step sees it; the commit applies
            // the whole list again, as one transaction.
            let tx = tabula_core::Transaction {
                lsn: state.lsn().next(),
                timestamp: tabula_core::Timestamp::EPOCH,
                cause: None,
                ops: ops.clone(),
            };
            state.apply(&tx)?;
            all.extend(ops);
        }
        Ok(all)
    }
}

fn step_ops(step: &Step, db: &State) -> Result<Vec<Op>> {
    Ok(match step {
        Step::AddColumn { table, column } => {
            let mut ops = vec![Op::AlterTable {
                table: table.clone(),
                change: SchemaChange::AddColumn(column.clone()),
            }];
            if let Some(default) = &column.default {
                for (key, row) in keyed_rows(db, table)? {
                    if row.contains_key(&column.name) {
                        continue;
                    }
                    ops.push(Op::Update {
                        table: table.clone(),
                        key,
                        set: Row::from([(column.name.clone(), default.clone())]),
                    });
                }
            }
            ops
        }
        Step::RenameColumn { table, from, to } => vec![Op::AlterTable {
            table: table.clone(),
            change: SchemaChange::RenameColumn {
                from: from.clone(),
                to: to.clone(),
            },
        }],
        Step::DropColumn { table, column } => vec![Op::AlterTable {
            table: table.clone(),
            change: SchemaChange::DropColumn(column.clone()),
        }],
        Step::ChangeType {
            table,
            column,
            ty,
            convert,
        } => change_type(db, table, column, *ty, convert)?,
        Step::SetNullable {
            table,
            column,
            nullable,
            fill,
        } => {
            let (_, mut col) = column_of(db, table, column)?;
            let mut ops = Vec::new();
            if !nullable {
                for (key, row) in keyed_rows(db, table)? {
                    if row.get(column).is_some_and(|v| !v.is_null()) {
                        continue;
                    }
                    if fill.is_null() {
                        return Err(Error::StepFailed(format!(
                            "{table}.{column} cannot be NOT NULL: the row with key {} has no \
                             value (give set_not_null a value to fill in)",
                            key.brief()
                        )));
                    }
                    ops.push(Op::Update {
                        table: table.clone(),
                        key,
                        set: Row::from([(column.clone(), fill.clone())]),
                    });
                }
            }
            col.nullable = *nullable;
            ops.push(Op::AlterTable {
                table: table.clone(),
                change: SchemaChange::AlterColumn(col),
            });
            ops
        }
        Step::Custom(build) => build(db).map_err(Error::StepFailed)?,
    })
}

/// `table`'s definition and its column `column`.
fn column_of(db: &State, table: &str, column: &str) -> Result<(TableDef, Column)> {
    let def = db.table(table).map(|t| t.def().clone()).ok_or_else(|| {
        Error::from(tabula_core::Error::UnknownTable {
            table: table.to_owned(),
        })
    })?;
    let col = def
        .schema
        .as_ref()
        .and_then(|s| s.column(column))
        .cloned()
        .ok_or_else(|| {
            Error::from(tabula_core::Error::UnknownColumn {
                table: table.to_owned(),
                column: column.to_owned(),
            })
        })?;
    Ok((def, col))
}

/// Every row of `table` with its stored key.
fn keyed_rows(db: &State, table: &str) -> Result<Vec<(Value, Row)>> {
    let t = db.table(table).ok_or_else(|| {
        Error::from(tabula_core::Error::UnknownTable {
            table: table.to_owned(),
        })
    })?;
    Ok(t.iter().map(|(key, row)| (key, row.to_row())).collect())
}

/// The ops of a type change. An ordinary column changes in place, keeping the rows, their
/// history and the auto-increment counter: it becomes `any`, each value is converted by an
/// update, and it takes the new type (`AlterColumn` checks every row). A key column cannot
/// change in place (the rows would move to other keys), so its table is rebuilt: dropped and
/// created again with the converted rows, a key of several columns computed again from them.
fn change_type(
    db: &State,
    table: &str,
    column: &str,
    ty: ColumnType,
    convert: &Convert,
) -> Result<Vec<Op>> {
    let (def, col) = column_of(db, table, column)?;
    let converted = |value: &Value| {
        convert(value).map_err(|why| {
            Error::StepFailed(format!(
                "converting {table}.{column} value {value:?} to {ty}: {why}"
            ))
        })
    };
    if def.is_key_column(column) {
        let mut rows = Vec::new();
        for (_, mut row) in keyed_rows(db, table)? {
            if let Some(value) = row.get_mut(column).filter(|v| !v.is_null()) {
                *value = converted(value)?;
            }
            if !def.key_parts.is_empty() {
                row.remove(&def.primary_key);
            }
            rows.push(row);
        }
        let mut def = def;
        if let Some(c) = def
            .schema
            .as_mut()
            .and_then(|s| s.columns.iter_mut().find(|c| c.name == column))
        {
            c.ty = ty;
        }
        let mut ops = vec![
            Op::DropTable {
                table: table.to_owned(),
            },
            Op::CreateTable(def),
        ];
        ops.extend(rows.into_iter().map(|row| Op::Insert {
            table: table.to_owned(),
            row,
        }));
        return Ok(ops);
    }
    let mut any = col.clone();
    any.ty = ColumnType::Any;
    let mut ops = vec![Op::AlterTable {
        table: table.to_owned(),
        change: SchemaChange::AlterColumn(any),
    }];
    for (key, row) in keyed_rows(db, table)? {
        let Some(value) = row.get(column).filter(|v| !v.is_null()) else {
            continue;
        };
        let new = converted(value)?;
        if new != *value {
            ops.push(Op::Update {
                table: table.to_owned(),
                key,
                set: Row::from([(column.to_owned(), new)]),
            });
        }
    }
    let mut typed = col;
    typed.ty = ty;
    ops.push(Op::AlterTable {
        table: table.to_owned(),
        change: SchemaChange::AlterColumn(typed),
    });
    Ok(ops)
}

impl Engine {
    /// Opens the database in `dir` as [`Engine::open`] does and applies `migrations` before
    /// anyone else can use it: the migrations an application registers at start-up.
    ///
    /// # Errors
    /// As [`Engine::open`] and [`Engine::migrate`]; after a failed migration the database is
    /// closed again, at the version before it.
    pub fn open_migrated(
        dir: impl AsRef<std::path::Path>,
        options: crate::Options,
        migrations: &[Migration],
    ) -> Result<(Engine, crate::RecoveryReport)> {
        let (engine, report) = Engine::open(dir, options)?;
        engine.migrate(migrations)?;
        Ok((engine, report))
    }

    /// The schema version the applied migrations reached (0: none).
    #[must_use]
    pub fn schema_version(&self) -> u64 {
        version_of(self.read().state())
    }

    /// Runs, in version order, each migration of `migrations` newer than the database's schema
    /// version, one transaction each; returns the version reached. Call it right after open.
    ///
    /// ```
    /// use tabula_core::{Column, ColumnType, Op, TableDef, Value};
    /// use tabula_engine::{Engine, Migration, Options};
    ///
    /// let engine = Engine::in_memory(Options::new());
    /// let def = TableDef::new("users", "id").column(Column::new("id", ColumnType::Int));
    /// engine.commit(vec![Op::CreateTable(def)])?;
    /// let migrations = [Migration::new(1, "add active")
    ///     .add_column("users", Column::new("active", ColumnType::Bool).default_value(true))];
    /// assert_eq!(engine.migrate(&migrations)?, 1);
    /// assert_eq!(engine.migrate(&migrations)?, 1); // applied once
    /// # Ok::<(), tabula_engine::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::MigrationOrder`] if versions are not strictly increasing; [`Error::Migration`]
    /// for the first migration that fails (nothing of it is committed).
    pub fn migrate(&self, migrations: &[Migration]) -> Result<u64> {
        let out_of_order = migrations.windows(2).find_map(|pair| match pair {
            [a, b] if a.version >= b.version => Some([a.version, b.version]),
            _ => None,
        });
        if let Some(versions) = out_of_order {
            return Err(Error::MigrationOrder { versions });
        }
        let start = self.schema_version();
        let mut version = start;
        for migration in migrations.iter().filter(|m| m.version > start) {
            let current = version;
            self.inner
                .commit_built(|db| {
                    let mut ops = migration.ops(db)?;
                    let row = system::meta_row(
                        VERSION_KEY,
                        Value::Int(i64::try_from(migration.version).unwrap_or(i64::MAX)),
                    );
                    ops.extend(system::upsert(db, system::meta(), row));
                    let cause = Cause::new().what("migration").why(format!(
                        "migration {} ({})",
                        migration.version, migration.name
                    ));
                    Ok((ops, Some(cause)))
                })
                .map_err(|source| Error::Migration {
                    version: migration.version,
                    name: migration.name.clone(),
                    current,
                    error: Box::new(source),
                })?;
            version = migration.version;
        }
        Ok(version)
    }
}

fn version_of(db: &State) -> u64 {
    match system::meta_value(db, VERSION_KEY) {
        Some(Value::Int(v)) => u64::try_from(v).unwrap_or(0),
        _ => 0,
    }
}
