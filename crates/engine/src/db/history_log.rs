//! [`HistoryLog`]: the log as history reads it (`as_of`, `history`, `log`, times and tags): the
//! engine's open log, or for a database opened read-only, a [`TransactionReader`] that reads the
//! same segments without a lock up to the LSN the open verified.

use tabula_core::Lsn;
use tabula_wal::{Timestamps, TransactionLog, TransactionReader, Transactions};

/// Where history reads logged transactions.
#[derive(Debug, Clone, Copy)]
pub(crate) enum HistoryLog<'a> {
    /// The open log of a writable engine.
    Open(&'a TransactionLog),
    /// A read-only engine's reader.
    Reader(&'a TransactionReader),
}

impl HistoryLog<'_> {
    /// Transactions from `from` on.
    pub(crate) fn read_from(self, from: Lsn) -> tabula_wal::Result<Transactions> {
        match self {
            HistoryLog::Open(log) => log.read_from(from),
            HistoryLog::Reader(reader) => reader.read_from(from),
        }
    }

    /// The LSN and time of each transaction from `from` on.
    pub(crate) fn timestamps_from(self, from: Lsn) -> tabula_wal::Result<Timestamps> {
        match self {
            HistoryLog::Open(log) => log.timestamps_from(from),
            HistoryLog::Reader(reader) => reader.timestamps_from(from),
        }
    }

    /// The oldest LSN still readable.
    pub(crate) fn oldest_lsn(self) -> tabula_wal::Result<Option<Lsn>> {
        match self {
            HistoryLog::Open(log) => log.wal().oldest_lsn(),
            HistoryLog::Reader(reader) => reader.reader().oldest_lsn(),
        }
    }

    /// Every segment file with its size.
    pub(crate) fn segments(self) -> tabula_wal::Result<Vec<tabula_wal::SegmentInfo>> {
        match self {
            HistoryLog::Open(log) => log.wal().segments(),
            HistoryLog::Reader(reader) => reader.reader().segments(),
        }
    }
}
