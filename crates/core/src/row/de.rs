//! Typed reads straight from packed rows: [`from_row_ref`] deserializes a struct from a
//! [`RowRef`]'s bytes without building a [`Value`](crate::Value) or a map first, text borrowed
//! in place. Each method gives a visitor exactly what `from_map_ref` gives it for the same row
//! as a map (timestamps as microseconds, bytes as a sequence of integers when asked for one), so
//! the two are interchangeable; a test checks them against each other.

use serde::de::value::{MapDeserializer, SeqDeserializer};
use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};

use super::unzigzag;
use super::{BYTES, FALSE, FLOAT, INT, LIST, MAP, NULL, Reader, RowRef, TEXT, TIMESTAMP, TRUE};
use crate::Timestamp;
use crate::value::ConvertError;
use crate::value::convert::timestamp_forms;

/// The `T` a stored row holds, read from its packed bytes.
///
/// ```
/// use tabula_core::{Row, RowRef, Value, from_row_ref};
///
/// #[derive(serde::Deserialize, Debug, PartialEq)]
/// struct Point { x: i32, label: Option<String> }
/// let row = RowRef::from(Row::from([("x".to_owned(), Value::Int(3))]));
/// assert_eq!(from_row_ref::<Point>(&row)?, Point { x: 3, label: None });
/// # Ok::<(), tabula_core::ConvertError>(())
/// ```
///
/// # Errors
/// As [`crate::from_value`]: the row does not have `T`'s shape.
pub fn from_row_ref<T: DeserializeOwned>(row: &RowRef) -> Result<T, ConvertError> {
    T::deserialize(RowDeserializer(row))
}

fn broken() -> ConvertError {
    ConvertError("a packed row could not be read".to_owned())
}

/// A stored row as a serde `Deserializer`: a map of its fields.
struct RowDeserializer<'a>(&'a RowRef);

/// The fields of a row, named, as a serde map.
fn fields<'de>(row: &'de RowRef) -> Result<Vec<(&'de str, PackedDeserializer<'de>)>, ConvertError> {
    Ok(row
        .entries()
        .map(|(name, value)| (name, PackedDeserializer(value)))
        .collect())
}

impl<'de> de::Deserializer<'de> for RowDeserializer<'de> {
    type Error = ConvertError;

    fn is_human_readable(&self) -> bool {
        false
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
        let mut access = MapDeserializer::new(fields(self.0)?.into_iter());
        let value = visitor.visit_map(&mut access)?;
        access.end()?;
        Ok(value)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, ConvertError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ConvertError> {
        let fields = fields(self.0)?;
        if fields.len() != 1 {
            return Err(de::Error::invalid_type(
                de::Unexpected::Map,
                &"an enum variant",
            ));
        }
        let access = MapDeserializer::new(fields.into_iter());
        visitor.visit_enum(de::value::MapAccessDeserializer::new(access))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

/// One packed value as a serde `Deserializer`.
struct PackedDeserializer<'a>(&'a [u8]);

impl<'de> IntoDeserializer<'de, ConvertError> for PackedDeserializer<'de> {
    type Deserializer = PackedDeserializer<'de>;
    fn into_deserializer(self) -> Self {
        self
    }
}

/// The items of a packed list.
fn items<'a>(reader: &mut Reader<'a>) -> Result<Vec<PackedDeserializer<'a>>, ConvertError> {
    let n = reader.len().ok_or_else(broken)?;
    let mut out = Vec::with_capacity(usize::try_from(n).unwrap_or(0).min(1024));
    for _ in 0..n {
        out.push(PackedDeserializer(reader.value_bytes().ok_or_else(broken)?));
    }
    Ok(out)
}

/// The entries of a packed map.
fn entries<'a>(
    reader: &mut Reader<'a>,
) -> Result<Vec<(&'a str, PackedDeserializer<'a>)>, ConvertError> {
    let n = reader.len().ok_or_else(broken)?;
    let mut out = Vec::with_capacity(usize::try_from(n).unwrap_or(0).min(1024));
    for _ in 0..n {
        let name = reader.text().ok_or_else(broken)?;
        out.push((
            name,
            PackedDeserializer(reader.value_bytes().ok_or_else(broken)?),
        ));
    }
    Ok(out)
}

impl<'de> PackedDeserializer<'de> {
    fn tag(&self) -> Option<u8> {
        self.0.first().copied()
    }

    /// The bytes after the tag.
    fn body(&self) -> Reader<'de> {
        Reader::new(self.0.get(1..).unwrap_or_default())
    }

    /// The value, if it is a timestamp.
    fn timestamp(&self) -> Result<Option<Timestamp>, ConvertError> {
        if self.tag() != Some(TIMESTAMP) {
            return Ok(None);
        }
        let micros = unzigzag(self.body().varint().ok_or_else(broken)?);
        Ok(Some(Timestamp::from_micros(micros)))
    }
}

impl<'de> de::Deserializer<'de> for PackedDeserializer<'de> {
    type Error = ConvertError;

    fn is_human_readable(&self) -> bool {
        false
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
        let mut body = self.body();
        match self.tag().ok_or_else(broken)? {
            NULL => visitor.visit_unit(),
            FALSE => visitor.visit_bool(false),
            TRUE => visitor.visit_bool(true),
            INT | TIMESTAMP => visitor.visit_i64(unzigzag(body.varint().ok_or_else(broken)?)),
            FLOAT => {
                let bits: [u8; 8] = body
                    .take(8)
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(broken)?;
                visitor.visit_f64(f64::from_bits(u64::from_le_bytes(bits)))
            }
            TEXT => visitor.visit_borrowed_str(body.text().ok_or_else(broken)?),
            BYTES => {
                let n = body.len().ok_or_else(broken)?;
                visitor.visit_borrowed_bytes(body.take(n).ok_or_else(broken)?)
            }
            LIST => {
                let mut access = SeqDeserializer::new(items(&mut body)?.into_iter());
                let value = visitor.visit_seq(&mut access)?;
                access.end()?;
                Ok(value)
            }
            MAP => {
                let mut access = MapDeserializer::new(entries(&mut body)?.into_iter());
                let value = visitor.visit_map(&mut access)?;
                access.end()?;
                Ok(value)
            }
            _ => Err(broken()),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
        match self.tag() {
            Some(NULL) => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
        if self.tag() == Some(BYTES) {
            let mut body = self.body();
            let n = body.len().ok_or_else(broken)?;
            let bytes = body.take(n).ok_or_else(broken)?;
            let mut access = SeqDeserializer::new(bytes.iter().map(|x| i64::from(*x)));
            let value = visitor.visit_seq(&mut access)?;
            access.end()?;
            return Ok(value);
        }
        self.deserialize_any(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, ConvertError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ConvertError> {
        let mut body = self.body();
        match self.tag() {
            Some(TEXT) => {
                let variant = body.text().ok_or_else(broken)?;
                visitor.visit_enum(variant.into_deserializer())
            }
            Some(MAP) => {
                let entries = entries(&mut body)?;
                if entries.len() == 1 {
                    let access = MapDeserializer::new(entries.into_iter());
                    visitor.visit_enum(de::value::MapAccessDeserializer::new(access))
                } else {
                    Err(de::Error::invalid_type(
                        de::Unexpected::Map,
                        &"an enum variant",
                    ))
                }
            }
            _ => {
                let value = Reader::new(self.0).value().ok_or_else(broken)?;
                Err(de::Error::invalid_type(
                    crate::value::unexpected(&value),
                    &"an enum variant",
                ))
            }
        }
    }

    timestamp_forms!();

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char bytes byte_buf
        unit unit_struct tuple_struct map struct identifier ignored_any
    }
}
