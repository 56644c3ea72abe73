//! The bincode-1 layout of each record type, in the field order documented in the module above.

use tabula_core::{
    Cause, Column, ColumnType, IndexDef, Lsn, Map, Op, Path, Schema, SchemaChange, TableDef,
    Timestamp, Transaction, Value,
};

use super::read::{self, BinRead};
use super::write::{self, BinWrite};
use crate::input::Input;
use crate::{Error, Format, Result};

/// As `tabula_core::Path`'s own deserializer: a path deeper than any value cannot match.
const MAX_PATH_SEGMENTS: usize = 64;

fn unknown(what: &str) -> Error {
    Error::Unencodable {
        format: Format::Bincode,
        reason: format!("this version of tabula-codec does not know this {what}"),
    }
}

impl BinWrite for Value {
    fn write_bin(&self, out: &mut Vec<u8>, max_depth: usize) -> Result<()> {
        write::write_value(out, self, 1, max_depth)
    }
}

impl BinRead for Value {
    fn read_bin<I: Input>(input: &mut I) -> Result<Self> {
        read::read_value(input, 1)
    }
}

impl BinWrite for Map {
    fn write_bin(&self, out: &mut Vec<u8>, max_depth: usize) -> Result<()> {
        write::write_map(out, self, 1, max_depth)
    }
}

impl BinRead for Map {
    fn read_bin<I: Input>(input: &mut I) -> Result<Self> {
        read::read_map(input, 1)
    }
}

const COLUMN_TYPES: [ColumnType; 9] = [
    ColumnType::Any,
    ColumnType::Bool,
    ColumnType::Int,
    ColumnType::Float,
    ColumnType::Text,
    ColumnType::Bytes,
    ColumnType::Timestamp,
    ColumnType::List,
    ColumnType::Map,
];

impl BinWrite for Column {
    fn write_bin(&self, out: &mut Vec<u8>, max_depth: usize) -> Result<()> {
        write::str(out, &self.name);
        let ty = COLUMN_TYPES
            .iter()
            .position(|t| *t == self.ty)
            .ok_or_else(|| unknown("column type"))?;
        write::tag(out, ty as u32);
        write::bool(out, self.nullable);
        write::bool(out, self.unique);
        match &self.default {
            None => out.push(0),
            Some(v) => {
                out.push(1);
                write::write_value(out, v, 1, max_depth)?;
            }
        }
        Ok(())
    }
}

impl BinRead for Column {
    fn read_bin<I: Input>(input: &mut I) -> Result<Self> {
        let name = read::string(input, "column name")?;
        let ty = read::tag(input, "column type", COLUMN_TYPES.len() as u32)?;
        let ty = COLUMN_TYPES
            .get(ty as usize)
            .copied()
            .unwrap_or(ColumnType::Any);
        let mut column = Column::new(name, ty);
        column.nullable = read::bool(input, "column nullable")?;
        column.unique = read::bool(input, "column unique")?;
        column.default = if read::option(input, "column default")? {
            Some(read::read_value(input, 1)?)
        } else {
            None
        };
        Ok(column)
    }
}

impl BinWrite for Schema {
    fn write_bin(&self, out: &mut Vec<u8>, max_depth: usize) -> Result<()> {
        write::len(out, self.columns.len());
        self.columns
            .iter()
            .try_for_each(|c| c.write_bin(out, max_depth))
    }
}

impl BinRead for Schema {
    fn read_bin<I: Input>(input: &mut I) -> Result<Self> {
        let n = read::vec_len::<_, Column>(input, "column count")?;
        let mut schema = Schema::default();
        schema.columns.reserve(read::capacity(n));
        for _ in 0..n {
            schema.columns.push(Column::read_bin(input)?);
        }
        Ok(schema)
    }
}

impl BinWrite for IndexDef {
    fn write_bin(&self, out: &mut Vec<u8>, _max_depth: usize) -> Result<()> {
        write::str(out, &self.name);
        write::str(out, &self.path.to_string());
        write::bool(out, self.unique);
        Ok(())
    }
}

impl BinRead for IndexDef {
    fn read_bin<I: Input>(input: &mut I) -> Result<Self> {
        let name = read::string(input, "index name")?;
        let at = input.offset();
        let text = read::string(input, "index path")?;
        if text.split('.').count() > MAX_PATH_SEGMENTS {
            return Err(input.invalid(
                at,
                format!("an index path of at most {MAX_PATH_SEGMENTS} segments"),
            ));
        }
        let path = Path::parse_lenient(&text);
        let unique = read::bool(input, "index unique")?;
        let mut index = IndexDef::new(name, path);
        index.unique = unique;
        Ok(index)
    }
}

/// The `auto_increment` byte of a [`TableDef`] with key parts (see the module docs): never
/// auto-increment, and the parts follow its indexes.
const KEY_PARTS_FOLLOW: u8 = 2;

impl BinWrite for TableDef {
    fn write_bin(&self, out: &mut Vec<u8>, max_depth: usize) -> Result<()> {
        write::str(out, &self.name);
        write::str(out, &self.primary_key);
        if self.key_parts.is_empty() {
            write::bool(out, self.auto_increment);
        } else {
            out.push(KEY_PARTS_FOLLOW);
        }
        match &self.schema {
            None => out.push(0),
            Some(schema) => {
                out.push(1);
                schema.write_bin(out, max_depth)?;
            }
        }
        write::len(out, self.indexes.len());
        self.indexes
            .iter()
            .try_for_each(|i| i.write_bin(out, max_depth))?;
        if !self.key_parts.is_empty() {
            write::len(out, self.key_parts.len());
            for part in &self.key_parts {
                write::str(out, part);
            }
        }
        Ok(())
    }
}

impl BinRead for TableDef {
    fn read_bin<I: Input>(input: &mut I) -> Result<Self> {
        let name = read::string(input, "table name")?;
        let primary_key = read::string(input, "primary key")?;
        let mut def = TableDef::new(name, primary_key);
        let at = input.offset();
        let flags = input.take_byte("auto_increment")?;
        let key_parts = match flags {
            0 | 1 => false,
            KEY_PARTS_FOLLOW => true,
            b => {
                return Err(input.invalid(
                    at,
                    format!("auto_increment as a byte 0, 1 or 2 (key parts follow), found {b}"),
                ));
            }
        };
        def.auto_increment = flags == 1;
        def.schema = if read::option(input, "schema")? {
            Some(Schema::read_bin(input)?)
        } else {
            None
        };
        let n = read::vec_len::<_, IndexDef>(input, "index count")?;
        def.indexes.reserve(read::capacity(n));
        for _ in 0..n {
            def.indexes.push(IndexDef::read_bin(input)?);
        }
        if key_parts {
            let n = read::vec_len::<_, String>(input, "key part count")?;
            def.key_parts.reserve(read::capacity(n));
            for _ in 0..n {
                def.key_parts.push(read::string(input, "key part")?);
            }
        }
        Ok(def)
    }
}

impl BinWrite for SchemaChange {
    fn write_bin(&self, out: &mut Vec<u8>, max_depth: usize) -> Result<()> {
        match self {
            SchemaChange::AddColumn(column) => {
                write::tag(out, 0);
                column.write_bin(out, max_depth)
            }
            SchemaChange::DropColumn(name) => {
                write::tag(out, 1);
                write::str(out, name);
                Ok(())
            }
            SchemaChange::RenameColumn { from, to } => {
                write::tag(out, 2);
                write::str(out, from);
                write::str(out, to);
                Ok(())
            }
            SchemaChange::AlterColumn(column) => {
                write::tag(out, 3);
                column.write_bin(out, max_depth)
            }
            _ => Err(unknown("schema change")),
        }
    }
}

impl BinRead for SchemaChange {
    fn read_bin<I: Input>(input: &mut I) -> Result<Self> {
        Ok(match read::tag(input, "schema change", 4)? {
            0 => SchemaChange::AddColumn(Column::read_bin(input)?),
            1 => SchemaChange::DropColumn(read::string(input, "column name")?),
            2 => SchemaChange::RenameColumn {
                from: read::string(input, "column name")?,
                to: read::string(input, "new column name")?,
            },
            _ => SchemaChange::AlterColumn(Column::read_bin(input)?),
        })
    }
}

impl BinWrite for Op {
    fn write_bin(&self, out: &mut Vec<u8>, max_depth: usize) -> Result<()> {
        match self {
            Op::CreateTable(def) => {
                write::tag(out, 0);
                def.write_bin(out, max_depth)
            }
            Op::DropTable { table } => {
                write::tag(out, 1);
                write::str(out, table);
                Ok(())
            }
            Op::CreateIndex { table, index } => {
                write::tag(out, 2);
                write::str(out, table);
                index.write_bin(out, max_depth)
            }
            Op::DropIndex { table, index } => {
                write::tag(out, 3);
                write::str(out, table);
                write::str(out, index);
                Ok(())
            }
            Op::Insert { table, row } | Op::Upsert { table, row } => {
                write::tag(
                    out,
                    if matches!(self, Op::Insert { .. }) {
                        4
                    } else {
                        5
                    },
                );
                write::str(out, table);
                write::write_map(out, row, 1, max_depth)
            }
            Op::Update { table, key, set } => {
                write::tag(out, 6);
                write::str(out, table);
                write::write_value(out, key, 1, max_depth)?;
                write::write_map(out, set, 1, max_depth)
            }
            Op::Delete { table, key } => {
                write::tag(out, 7);
                write::str(out, table);
                write::write_value(out, key, 1, max_depth)
            }
            Op::AlterTable { table, change } => {
                write::tag(out, 8);
                write::str(out, table);
                change.write_bin(out, max_depth)
            }
            _ => Err(unknown("op")),
        }
    }
}

impl BinRead for Op {
    fn read_bin<I: Input>(input: &mut I) -> Result<Self> {
        let tag = read::tag(input, "op", 9)?;
        if tag == 0 {
            return Ok(Op::CreateTable(TableDef::read_bin(input)?));
        }
        let table = read::string(input, "table name")?;
        Ok(match tag {
            1 => Op::DropTable { table },
            2 => Op::CreateIndex {
                table,
                index: IndexDef::read_bin(input)?,
            },
            3 => Op::DropIndex {
                table,
                index: read::string(input, "index name")?,
            },
            4 => Op::Insert {
                table,
                row: read::read_map(input, 1)?,
            },
            5 => Op::Upsert {
                table,
                row: read::read_map(input, 1)?,
            },
            6 => Op::Update {
                table,
                key: read::read_value(input, 1)?,
                set: read::read_map(input, 1)?,
            },
            7 => Op::Delete {
                table,
                key: read::read_value(input, 1)?,
            },
            _ => Op::AlterTable {
                table,
                change: SchemaChange::read_bin(input)?,
            },
        })
    }
}

impl BinWrite for Cause {
    fn write_bin(&self, out: &mut Vec<u8>, max_depth: usize) -> Result<()> {
        write::opt_str(out, self.who.as_deref());
        write::opt_str(out, self.what.as_deref());
        write::opt_str(out, self.where_.as_deref());
        write::opt_str(out, self.why.as_deref());
        write::write_map(out, &self.context, 1, max_depth)
    }
}

impl BinRead for Cause {
    fn read_bin<I: Input>(input: &mut I) -> Result<Self> {
        let mut cause = Cause::new();
        cause.who = read::opt_string(input, "cause who")?;
        cause.what = read::opt_string(input, "cause what")?;
        cause.where_ = read::opt_string(input, "cause where")?;
        cause.why = read::opt_string(input, "cause why")?;
        cause.context = read::read_map(input, 1)?;
        Ok(cause)
    }
}

impl BinWrite for Transaction {
    fn write_bin(&self, out: &mut Vec<u8>, max_depth: usize) -> Result<()> {
        out.extend_from_slice(&self.lsn.0.to_le_bytes());
        out.extend_from_slice(&self.timestamp.as_micros().to_le_bytes());
        match &self.cause {
            None => out.push(0),
            Some(cause) => {
                out.push(1);
                cause.write_bin(out, max_depth)?;
            }
        }
        write::len(out, self.ops.len());
        self.ops
            .iter()
            .try_for_each(|op| op.write_bin(out, max_depth))
    }
}

impl BinRead for Transaction {
    fn read_bin<I: Input>(input: &mut I) -> Result<Self> {
        let lsn = Lsn(read::u64(input, "transaction lsn")?);
        let timestamp = Timestamp::from_micros(read::i64(input, "transaction timestamp")?);
        let mut tx = Transaction::new(lsn, timestamp);
        tx.cause = if read::option(input, "cause")? {
            Some(Cause::read_bin(input)?)
        } else {
            None
        };
        let n = read::vec_len::<_, Op>(input, "op count")?;
        tx.ops.reserve(read::capacity(n));
        for _ in 0..n {
            tx.ops.push(Op::read_bin(input)?);
        }
        Ok(tx)
    }
}
