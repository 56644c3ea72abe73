//! [`TransactionLog`]: the typed layer on the byte log. It encodes core [`Transaction`]s with a
//! [`Codec`] and checks, when reading back, that each decodes to the LSN it was logged at.

use std::path::Path;

use tabula_codec::Codec;
use tabula_codec::Format;
use tabula_core::{Lsn, Timestamp, Transaction};

use crate::log::Wal;
use crate::options::WalOptions;
use crate::reader::{LogReader, Records};
use crate::recovery::RecoveryReport;
use crate::{Error, Result};
use tabula_storage::DamageKind;

/// A log of transactions.
///
/// ```
/// use tabula_codec::{Codec, Format};
/// use tabula_core::{Lsn, Timestamp, Transaction};
/// use tabula_wal::{TransactionLog, WalOptions};
///
/// let dir = tempfile::tempdir()?;
/// let codec = Codec::new(Format::Bincode);
/// let (log, _) = TransactionLog::open(dir.path(), WalOptions::default(), codec)?;
/// let mut tx = Transaction::new(Lsn::ZERO, Timestamp::from_micros(1_700_000_000_000_000));
/// let lsn = log.commit(&mut tx)?;
/// assert_eq!(tx.lsn, lsn);
/// let read: Vec<Transaction> = log.read_from(Lsn(1))?.collect::<Result<_, _>>()?;
/// assert_eq!(read, vec![tx]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct TransactionLog {
    wal: Wal,
    codec: Codec,
}

impl TransactionLog {
    /// Opens the log in `dir` and recovers it.
    pub fn open(
        dir: impl AsRef<Path>,
        options: WalOptions,
        codec: Codec,
    ) -> Result<(TransactionLog, RecoveryReport)> {
        let (wal, report) = Wal::open(dir, options)?;
        Ok((TransactionLog { wal, codec }, report))
    }

    /// Wraps an open log.
    #[must_use]
    pub fn new(wal: Wal, codec: Codec) -> TransactionLog {
        TransactionLog { wal, codec }
    }

    /// The byte log underneath.
    #[must_use]
    pub fn wal(&self) -> &Wal {
        &self.wal
    }

    /// Buffers `tx` at the next LSN, which is written into `tx.lsn`.
    pub fn append(&self, tx: &mut Transaction) -> Result<Lsn> {
        let codec = &self.codec;
        let lsn = self.wal.append_with(|lsn, out| {
            tx.lsn = lsn;
            codec
                .encode_into(&*tx, out)
                .map_err(|source| Error::Codec { lsn, error: source })
        })?;
        Ok(lsn)
    }

    /// Appends `tx` and waits for the sync policy, as [`Wal::commit`].
    pub fn commit(&self, tx: &mut Transaction) -> Result<Lsn> {
        let lsn = self.append(tx)?;
        self.wal.commit_appended(lsn)?;
        Ok(lsn)
    }

    /// The LSN and commit time of each transaction from `from` on, for finding the LSN a time
    /// names. With the bincode codec only the first 16 bytes of each record are read (the
    /// transaction's LSN and timestamp come first); other codecs decode the whole transaction.
    pub fn timestamps_from(&self, from: Lsn) -> Result<Timestamps> {
        Ok(Timestamps {
            records: self.wal.read_from(from)?,
            codec: self.codec,
        })
    }

    /// Transactions from `from` on.
    pub fn read_from(&self, from: Lsn) -> Result<Transactions> {
        Ok(Transactions {
            records: self.wal.read_from(from)?,
            codec: self.codec,
        })
    }
}

/// A [`LogReader`] of transactions: the reading half of [`TransactionLog`], for a database
/// opened read-only.
#[derive(Debug)]
pub struct TransactionReader {
    reader: LogReader,
    codec: Codec,
}

impl TransactionReader {
    /// Reads `reader`'s records as transactions in `codec`.
    #[must_use]
    pub fn new(reader: LogReader, codec: Codec) -> TransactionReader {
        TransactionReader { reader, codec }
    }

    /// The byte reader underneath.
    #[must_use]
    pub fn reader(&self) -> &LogReader {
        &self.reader
    }

    /// As [`TransactionLog::timestamps_from`].
    pub fn timestamps_from(&self, from: Lsn) -> Result<Timestamps> {
        Ok(Timestamps {
            records: self.reader.read_from(from)?,
            codec: self.codec,
        })
    }

    /// As [`TransactionLog::read_from`].
    pub fn read_from(&self, from: Lsn) -> Result<Transactions> {
        Ok(Transactions {
            records: self.reader.read_from(from)?,
            codec: self.codec,
        })
    }
}

/// An iterator over logged transactions.
#[derive(Debug)]
pub struct Transactions {
    records: Records,
    codec: Codec,
}

impl Iterator for Transactions {
    type Item = Result<Transaction>;

    fn next(&mut self) -> Option<Result<Transaction>> {
        let codec = self.codec;
        let decoded = self
            .records
            .next_with(|lsn, payload| (lsn, codec.decode::<Transaction>(payload)));
        let (lsn, tx) = match decoded? {
            Ok(pair) => pair,
            Err(error) => return Some(Err(error)),
        };
        let tx = match tx {
            Ok(tx) => tx,
            Err(source) => return Some(Err(Error::Codec { lsn, error: source })),
        };
        if tx.lsn != lsn {
            return Some(Err(Error::corrupted(
                std::path::PathBuf::new(),
                0,
                DamageKind::Lsn {
                    expected: lsn.0,
                    found: tx.lsn.0,
                },
            )));
        }
        Some(Ok(tx))
    }
}

/// An iterator over the LSNs and commit times of logged transactions, from
/// [`TransactionLog::timestamps_from`].
#[derive(Debug)]
pub struct Timestamps {
    records: Records,
    codec: Codec,
}

impl Iterator for Timestamps {
    type Item = Result<(Lsn, Timestamp)>;

    fn next(&mut self) -> Option<Result<(Lsn, Timestamp)>> {
        let codec = self.codec;
        let read = self.records.next_with(|lsn, payload| {
            let micros = match codec.format() {
                // The bincode layout of a transaction: lsn u64, timestamp i64, ... (tabula-codec).
                Format::Bincode => payload
                    .get(8..16)
                    .and_then(|b| <[u8; 8]>::try_from(b).ok())
                    .map(i64::from_le_bytes)
                    .ok_or_else(|| {
                        let kind = DamageKind::Truncated {
                            what: "transaction record",
                            needed: 16,
                            available: payload.len() as u64,
                        };
                        Error::corrupted(std::path::PathBuf::new(), 0, kind)
                    }),
                _ => codec
                    .decode::<Transaction>(payload)
                    .map(|tx| tx.timestamp.as_micros())
                    .map_err(|source| Error::Codec { lsn, error: source }),
            };
            micros.map(|m| (lsn, Timestamp::from_micros(m)))
        });
        match read? {
            Ok(Ok(pair)) => Some(Ok(pair)),
            Ok(Err(error)) | Err(error) => Some(Err(error)),
        }
    }
}
