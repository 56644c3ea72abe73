//! [`Codable`]: the core types a codec reads and writes, and the depth check every format shares.

use serde::Serialize;
use serde::de::DeserializeOwned;
use tabula_core::{
    Cause, Column, IndexDef, Map, Measure, Op, Schema, SchemaChange, TableDef, Transaction, Value,
};

use crate::bincode::{BinRead, BinWrite};

mod sealed {
    pub trait Sealed {}
}

/// A type the codecs read and write: [`Value`], a row ([`Map`]), [`Column`], [`Schema`],
/// [`IndexDef`], [`TableDef`], [`SchemaChange`], [`Op`], [`Cause`] and [`Transaction`].
///
/// Sealed: the three layouts are documented and fixed per type.
pub trait Codable: Serialize + DeserializeOwned + BinWrite + BinRead + sealed::Sealed {
    /// The depth of the deepest value or row inside, measured as [`Measure`] does, stopping
    /// once it passes `max`.
    fn value_depth(&self, max: usize) -> usize;
}

fn of(value: &Value, max: usize) -> usize {
    Measure::of(value, max).depth
}

fn of_row(row: &Map, max: usize) -> usize {
    Measure::of_row(row, max).depth
}

impl sealed::Sealed for Value {}
impl Codable for Value {
    fn value_depth(&self, max: usize) -> usize {
        of(self, max)
    }
}

impl sealed::Sealed for Map {}
impl Codable for Map {
    fn value_depth(&self, max: usize) -> usize {
        of_row(self, max)
    }
}

impl sealed::Sealed for Column {}
impl Codable for Column {
    fn value_depth(&self, max: usize) -> usize {
        self.default.as_ref().map_or(0, |v| of(v, max))
    }
}

impl sealed::Sealed for Schema {}
impl Codable for Schema {
    fn value_depth(&self, max: usize) -> usize {
        self.columns
            .iter()
            .map(|c| c.value_depth(max))
            .max()
            .unwrap_or(0)
    }
}

impl sealed::Sealed for IndexDef {}
impl Codable for IndexDef {
    fn value_depth(&self, _max: usize) -> usize {
        0
    }
}

impl sealed::Sealed for TableDef {}
impl Codable for TableDef {
    fn value_depth(&self, max: usize) -> usize {
        self.schema.as_ref().map_or(0, |s| s.value_depth(max))
    }
}

impl sealed::Sealed for SchemaChange {}
impl Codable for SchemaChange {
    fn value_depth(&self, max: usize) -> usize {
        match self {
            SchemaChange::AddColumn(c) | SchemaChange::AlterColumn(c) => c.value_depth(max),
            _ => 0,
        }
    }
}

impl sealed::Sealed for Op {}
impl Codable for Op {
    fn value_depth(&self, max: usize) -> usize {
        match self {
            Op::CreateTable(def) => def.value_depth(max),
            Op::Insert { row, .. } | Op::Upsert { row, .. } => of_row(row, max),
            Op::Update { key, set, .. } => of(key, max).max(of_row(set, max)),
            Op::Delete { key, .. } => of(key, max),
            Op::AlterTable { change, .. } => change.value_depth(max),
            _ => 0,
        }
    }
}

impl sealed::Sealed for Cause {}
impl Codable for Cause {
    fn value_depth(&self, max: usize) -> usize {
        of_row(&self.context, max)
    }
}

impl sealed::Sealed for Transaction {}
impl Codable for Transaction {
    fn value_depth(&self, max: usize) -> usize {
        let cause = self.cause.as_ref().map_or(0, |c| c.value_depth(max));
        self.ops
            .iter()
            .map(|op| op.value_depth(max))
            .fold(cause, usize::max)
    }
}
