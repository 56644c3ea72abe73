//! Between the caller's serde types and [`Value`]s: [`to_value`] is a serde `Serializer` that
//! builds a `Value`, [`from_value`] a `Deserializer` that reads one, without going through any
//! text or byte format.
//!
//! The mapping is the natural one: integers become `Int` (an unsigned one beyond `i64::MAX` is
//! an error, not a silent float), floats `Float`, strings and chars `Text`, byte strings
//! (`serde_bytes`) `Bytes`, sequences and tuples `List`, maps and structs `Map` (keys must be
//! strings, integers or chars), `None` and `()` `Null`, unit enum variants their name, and other
//! variants a one-member map `{variant: content}` (serde's external tagging). A
//! [`Timestamp`](crate::Timestamp) serializes as its microseconds (serde's non-human-
//! readable form); the typed layer turns it back into a timestamp where the column says so.
//!
//! It is the typed layer's data format (the `tabula` crate's records are rows through it),
//! and it sits here, next to [`Value`], so that any crate can use it without the facade.
//!
//! Reading is lenient where serde asks for it: a `Timestamp` reads as its microseconds, `Bytes`
//! as a sequence of `u8`, and `Null` as `None` or `()`.

use std::fmt;

use super::{Map, Value};
use serde::de::value::{MapDeserializer, SeqDeserializer};
use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};
use serde::ser::{self, Serialize};

/// A value that does not convert, with serde's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertError(pub String);

impl fmt::Display for ConvertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConvertError {}

impl ser::Error for ConvertError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        ConvertError(msg.to_string())
    }
}

impl de::Error for ConvertError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        ConvertError(msg.to_string())
    }
}

/// `value` as a [`Value`].
///
/// ```
/// use tabula_core::Value;
/// #[derive(serde::Serialize)]
/// struct Point { x: i32, label: Option<String> }
/// let v = tabula_core::to_value(&Point { x: 3, label: None })?;
/// assert_eq!(v.as_map().unwrap()["x"], Value::Int(3));
/// assert_eq!(v.as_map().unwrap()["label"], Value::Null);
/// # Ok::<(), tabula_core::ConvertError>(())
/// ```
///
/// # Errors
/// A map key that is not a string, integer or char; an unsigned integer beyond `i64::MAX`; a
/// `Serialize` implementation's own error.
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, ConvertError> {
    value.serialize(ValueSerializer)
}

/// A `T` read from `value`.
///
/// # Errors
/// A value of the wrong shape for `T`, naming what was expected.
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, ConvertError> {
    T::deserialize(value.into_deserializer_value())
}

/// A `T` read from the fields of `map` (a row) without copying it first: only what `T` keeps
/// (its strings, say) is copied out. Reads as [`from_value`] of `Value::Map(map.clone())` does.
///
/// ```
/// #[derive(serde::Deserialize, Debug, PartialEq)]
/// struct Point { x: i32, label: Option<String> }
/// let row = tabula_core::Row::from([("x".to_owned(), tabula_core::Value::Int(3))]);
/// let p: Point = tabula_core::from_map_ref(&row)?;
/// assert_eq!(p, Point { x: 3, label: None });
/// # Ok::<(), tabula_core::ConvertError>(())
/// ```
///
/// # Errors
/// As [`from_value`].
pub fn from_map_ref<T: DeserializeOwned>(map: &Map) -> Result<T, ConvertError> {
    T::deserialize(MapRefDeserializer(map))
}

struct ValueSerializer;

fn int<T: TryInto<i64>>(v: T) -> Result<Value, ConvertError> {
    v.try_into()
        .map(Value::Int)
        .map_err(|_| ConvertError("an integer beyond i64::MAX does not fit a value".into()))
}

impl ser::Serializer for ValueSerializer {
    type Ok = Value;
    type Error = ConvertError;
    type SerializeSeq = SeqBuilder;
    type SerializeTuple = SeqBuilder;
    type SerializeTupleStruct = SeqBuilder;
    type SerializeTupleVariant = Tagged<SeqBuilder>;
    type SerializeMap = MapBuilder;
    type SerializeStruct = MapBuilder;
    type SerializeStructVariant = Tagged<MapBuilder>;

    fn is_human_readable(&self) -> bool {
        false
    }
    fn serialize_bool(self, v: bool) -> Result<Value, ConvertError> {
        Ok(Value::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Value, ConvertError> {
        int(v)
    }
    fn serialize_i16(self, v: i16) -> Result<Value, ConvertError> {
        int(v)
    }
    fn serialize_i32(self, v: i32) -> Result<Value, ConvertError> {
        int(v)
    }
    fn serialize_i64(self, v: i64) -> Result<Value, ConvertError> {
        int(v)
    }
    fn serialize_i128(self, v: i128) -> Result<Value, ConvertError> {
        int(v)
    }
    fn serialize_u8(self, v: u8) -> Result<Value, ConvertError> {
        int(v)
    }
    fn serialize_u16(self, v: u16) -> Result<Value, ConvertError> {
        int(v)
    }
    fn serialize_u32(self, v: u32) -> Result<Value, ConvertError> {
        int(v)
    }
    fn serialize_u64(self, v: u64) -> Result<Value, ConvertError> {
        int(v)
    }
    fn serialize_u128(self, v: u128) -> Result<Value, ConvertError> {
        int(v)
    }
    fn serialize_f32(self, v: f32) -> Result<Value, ConvertError> {
        Ok(Value::Float(f64::from(v)))
    }
    fn serialize_f64(self, v: f64) -> Result<Value, ConvertError> {
        Ok(Value::Float(v))
    }
    fn serialize_char(self, v: char) -> Result<Value, ConvertError> {
        Ok(Value::Text(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Value, ConvertError> {
        Ok(Value::Text(v.to_owned()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value, ConvertError> {
        Ok(Value::Bytes(v.to_vec()))
    }
    fn serialize_none(self) -> Result<Value, ConvertError> {
        Ok(Value::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value, ConvertError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value, ConvertError> {
        Ok(Value::Null)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Value, ConvertError> {
        Ok(Value::Null)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Value, ConvertError> {
        Ok(Value::Text(variant.to_owned()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Value, ConvertError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value, ConvertError> {
        let mut map = Map::new();
        map.insert(variant.to_owned(), value.serialize(self)?);
        Ok(Value::Map(map))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqBuilder, ConvertError> {
        Ok(SeqBuilder(Vec::with_capacity(len.unwrap_or(0).min(4096))))
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqBuilder, ConvertError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        len: usize,
    ) -> Result<SeqBuilder, ConvertError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Tagged<SeqBuilder>, ConvertError> {
        Ok(Tagged(variant, self.serialize_seq(Some(len))?))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<MapBuilder, ConvertError> {
        Ok(MapBuilder {
            map: Map::new(),
            key: None,
        })
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<MapBuilder, ConvertError> {
        self.serialize_map(None)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Tagged<MapBuilder>, ConvertError> {
        Ok(Tagged(variant, self.serialize_map(None)?))
    }
}

#[doc(hidden)]
pub struct SeqBuilder(Vec<Value>);

impl ser::SerializeSeq for SeqBuilder {
    type Ok = Value;
    type Error = ConvertError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ConvertError> {
        self.0.push(to_value(value)?);
        Ok(())
    }
    fn end(self) -> Result<Value, ConvertError> {
        Ok(Value::List(self.0))
    }
}

impl ser::SerializeTuple for SeqBuilder {
    type Ok = Value;
    type Error = ConvertError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ConvertError> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Value, ConvertError> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleStruct for SeqBuilder {
    type Ok = Value;
    type Error = ConvertError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ConvertError> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Value, ConvertError> {
        ser::SerializeSeq::end(self)
    }
}

#[doc(hidden)]
pub struct MapBuilder {
    map: Map,
    key: Option<String>,
}

/// A map key as text: strings, chars and integers are accepted.
struct KeySerializer;

fn key_error() -> ConvertError {
    ConvertError("a map key must be a string, an integer or a char".into())
}

impl ser::Serializer for KeySerializer {
    type Ok = String;
    type Error = ConvertError;
    type SerializeSeq = ser::Impossible<String, ConvertError>;
    type SerializeTuple = ser::Impossible<String, ConvertError>;
    type SerializeTupleStruct = ser::Impossible<String, ConvertError>;
    type SerializeTupleVariant = ser::Impossible<String, ConvertError>;
    type SerializeMap = ser::Impossible<String, ConvertError>;
    type SerializeStruct = ser::Impossible<String, ConvertError>;
    type SerializeStructVariant = ser::Impossible<String, ConvertError>;

    fn serialize_str(self, v: &str) -> Result<String, ConvertError> {
        Ok(v.to_owned())
    }
    fn serialize_char(self, v: char) -> Result<String, ConvertError> {
        Ok(v.to_string())
    }
    fn serialize_i64(self, v: i64) -> Result<String, ConvertError> {
        Ok(v.to_string())
    }
    fn serialize_u64(self, v: u64) -> Result<String, ConvertError> {
        Ok(v.to_string())
    }
    fn serialize_i8(self, v: i8) -> Result<String, ConvertError> {
        Ok(v.to_string())
    }
    fn serialize_i16(self, v: i16) -> Result<String, ConvertError> {
        Ok(v.to_string())
    }
    fn serialize_i32(self, v: i32) -> Result<String, ConvertError> {
        Ok(v.to_string())
    }
    fn serialize_u8(self, v: u8) -> Result<String, ConvertError> {
        Ok(v.to_string())
    }
    fn serialize_u16(self, v: u16) -> Result<String, ConvertError> {
        Ok(v.to_string())
    }
    fn serialize_u32(self, v: u32) -> Result<String, ConvertError> {
        Ok(v.to_string())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<String, ConvertError> {
        Ok(variant.to_owned())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<String, ConvertError> {
        value.serialize(self)
    }
    fn serialize_bool(self, _: bool) -> Result<String, ConvertError> {
        Err(key_error())
    }
    fn serialize_f32(self, _: f32) -> Result<String, ConvertError> {
        Err(key_error())
    }
    fn serialize_f64(self, _: f64) -> Result<String, ConvertError> {
        Err(key_error())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<String, ConvertError> {
        Err(key_error())
    }
    fn serialize_none(self) -> Result<String, ConvertError> {
        Err(key_error())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<String, ConvertError> {
        Err(key_error())
    }
    fn serialize_unit(self) -> Result<String, ConvertError> {
        Err(key_error())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<String, ConvertError> {
        Err(key_error())
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<String, ConvertError> {
        Err(key_error())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, ConvertError> {
        Err(key_error())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, ConvertError> {
        Err(key_error())
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, ConvertError> {
        Err(key_error())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, ConvertError> {
        Err(key_error())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, ConvertError> {
        Err(key_error())
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, ConvertError> {
        Err(key_error())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, ConvertError> {
        Err(key_error())
    }
}

impl ser::SerializeMap for MapBuilder {
    type Ok = Value;
    type Error = ConvertError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), ConvertError> {
        self.key = Some(key.serialize(KeySerializer)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ConvertError> {
        let key = self
            .key
            .take()
            .ok_or_else(|| ConvertError("a map value came before its key".into()))?;
        self.map.insert(key, to_value(value)?);
        Ok(())
    }
    fn end(self) -> Result<Value, ConvertError> {
        Ok(Value::Map(self.map))
    }
}

impl ser::SerializeStruct for MapBuilder {
    type Ok = Value;
    type Error = ConvertError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), ConvertError> {
        self.map.insert(key.to_owned(), to_value(value)?);
        Ok(())
    }
    fn end(self) -> Result<Value, ConvertError> {
        Ok(Value::Map(self.map))
    }
}

/// A variant's content, wrapped as `{variant: content}` when done.
#[doc(hidden)]
pub struct Tagged<B>(&'static str, B);

impl ser::SerializeTupleVariant for Tagged<SeqBuilder> {
    type Ok = Value;
    type Error = ConvertError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ConvertError> {
        ser::SerializeSeq::serialize_element(&mut self.1, value)
    }
    fn end(self) -> Result<Value, ConvertError> {
        let mut map = Map::new();
        map.insert(self.0.to_owned(), Value::List(self.1.0));
        Ok(Value::Map(map))
    }
}

impl ser::SerializeStructVariant for Tagged<MapBuilder> {
    type Ok = Value;
    type Error = ConvertError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), ConvertError> {
        ser::SerializeStruct::serialize_field(&mut self.1, key, value)
    }
    fn end(self) -> Result<Value, ConvertError> {
        let mut map = Map::new();
        map.insert(self.0.to_owned(), Value::Map(self.1.map));
        Ok(Value::Map(map))
    }
}

/// A [`Value`] as a serde `Deserializer`.
#[doc(hidden)]
pub struct ValueDeserializer(Value);

trait IntoValueDeserializer {
    fn into_deserializer_value(self) -> ValueDeserializer;
}

impl IntoValueDeserializer for Value {
    fn into_deserializer_value(self) -> ValueDeserializer {
        ValueDeserializer(self)
    }
}

impl<'de> IntoDeserializer<'de, ConvertError> for ValueDeserializer {
    type Deserializer = ValueDeserializer;
    fn into_deserializer(self) -> ValueDeserializer {
        self
    }
}

fn seq<'de, V: Visitor<'de>>(items: Vec<Value>, visitor: V) -> Result<V::Value, ConvertError> {
    let mut access = SeqDeserializer::new(items.into_iter().map(ValueDeserializer));
    let value = visitor.visit_seq(&mut access)?;
    access.end()?;
    Ok(value)
}

/// A timestamp asked for as text (`chrono`'s and `jiff`'s date-times ask so): its RFC 3339
/// form.
pub(crate) fn timestamp_str<'de, V: Visitor<'de>>(
    t: crate::Timestamp,
    visitor: V,
) -> Result<V::Value, ConvertError> {
    visitor.visit_string(t.to_string())
}

/// A timestamp asked for as a tuple of `len` (the `time` crate's date-times ask for 9 or 6):
/// that tuple, or `None` to read it as usual.
pub(crate) fn timestamp_tuple<'de, V: Visitor<'de>>(
    t: crate::Timestamp,
    len: usize,
    visitor: V,
) -> Result<Result<V::Value, ConvertError>, V> {
    let Some(fields) = t.to_time_tuple(len) else {
        return Err(visitor);
    };
    let mut access = SeqDeserializer::new(fields.into_iter());
    Ok(visitor
        .visit_seq(&mut access)
        .and_then(|value| access.end().map(|()| value)))
}

/// `deserialize_str`, `deserialize_string` and `deserialize_tuple` for a deserializer with a
/// `timestamp(&self) -> Result<Option<Timestamp>, ConvertError>` method: a timestamp in the
/// form the target type asks for ([`timestamp_str`], [`timestamp_tuple`]), anything else as
/// `deserialize_any` gives it.
macro_rules! timestamp_forms {
    () => {
        fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
            match self.timestamp()? {
                Some(t) => $crate::value::convert::timestamp_str(t, visitor),
                None => self.deserialize_any(visitor),
            }
        }

        fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
            self.deserialize_str(visitor)
        }

        fn deserialize_tuple<V: Visitor<'de>>(
            self,
            len: usize,
            visitor: V,
        ) -> Result<V::Value, ConvertError> {
            match self.timestamp()? {
                Some(t) => match $crate::value::convert::timestamp_tuple(t, len, visitor) {
                    Ok(result) => result,
                    Err(visitor) => visitor.visit_i64(t.as_micros()),
                },
                None => self.deserialize_any(visitor),
            }
        }
    };
}
pub(crate) use timestamp_forms;

impl ValueDeserializer {
    /// The value, if it is a timestamp.
    #[expect(
        clippy::unnecessary_wraps,
        reason = "the shape `timestamp_forms` needs; the packed rows' reader can fail"
    )]
    fn timestamp(&self) -> Result<Option<crate::Timestamp>, ConvertError> {
        Ok(match &self.0 {
            Value::Timestamp(t) => Some(*t),
            _ => None,
        })
    }
}

impl ValueRefDeserializer<'_> {
    /// The value, if it is a timestamp.
    #[expect(
        clippy::unnecessary_wraps,
        reason = "the shape `timestamp_forms` needs; the packed rows' reader can fail"
    )]
    fn timestamp(&self) -> Result<Option<crate::Timestamp>, ConvertError> {
        Ok(match self.0 {
            Value::Timestamp(t) => Some(*t),
            _ => None,
        })
    }
}

fn map<'de, V: Visitor<'de>>(map: Map, visitor: V) -> Result<V::Value, ConvertError> {
    let mut access = MapDeserializer::new(map.into_iter().map(|(k, v)| (k, ValueDeserializer(v))));
    let value = visitor.visit_map(&mut access)?;
    access.end()?;
    Ok(value)
}

impl<'de> de::Deserializer<'de> for ValueDeserializer {
    type Error = ConvertError;

    fn is_human_readable(&self) -> bool {
        false
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::Int(i) => visitor.visit_i64(i),
            Value::Float(f) => visitor.visit_f64(f),
            Value::Timestamp(t) => visitor.visit_i64(t.as_micros()),
            Value::Text(s) => visitor.visit_string(s),
            Value::Bytes(b) => visitor.visit_byte_buf(b),
            Value::List(items) => seq(items, visitor),
            Value::Map(m) => map(m, visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            other => visitor.visit_some(ValueDeserializer(other)),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
        match self.0 {
            Value::Bytes(b) => seq(
                b.into_iter().map(|x| Value::Int(i64::from(x))).collect(),
                visitor,
            ),
            other => ValueDeserializer(other).deserialize_any(visitor),
        }
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
        match self.0 {
            Value::Text(variant) => visitor.visit_enum(variant.into_deserializer()),
            Value::Map(m) if m.len() == 1 => {
                let access =
                    MapDeserializer::new(m.into_iter().map(|(k, v)| (k, ValueDeserializer(v))));
                visitor.visit_enum(de::value::MapAccessDeserializer::new(access))
            }
            other => Err(de::Error::invalid_type(
                unexpected(&other),
                &"an enum variant",
            )),
        }
    }

    timestamp_forms!();

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char bytes byte_buf
        unit unit_struct tuple_struct map struct identifier ignored_any
    }
}

/// A borrowed [`Value`] as a serde `Deserializer`: what [`from_map_ref`] reads fields with. Each
/// method gives the visitor what [`ValueDeserializer`] gives it for the same value, borrowed.
struct ValueRefDeserializer<'a>(&'a Value);

/// A borrowed map as a serde `Deserializer`.
struct MapRefDeserializer<'a>(&'a Map);

impl<'de> IntoDeserializer<'de, ConvertError> for ValueRefDeserializer<'de> {
    type Deserializer = ValueRefDeserializer<'de>;
    fn into_deserializer(self) -> Self {
        self
    }
}

fn seq_ref<'de, V: Visitor<'de>>(
    items: &'de [Value],
    visitor: V,
) -> Result<V::Value, ConvertError> {
    let mut access = SeqDeserializer::new(items.iter().map(ValueRefDeserializer));
    let value = visitor.visit_seq(&mut access)?;
    access.end()?;
    Ok(value)
}

fn map_ref<'de, V: Visitor<'de>>(map: &'de Map, visitor: V) -> Result<V::Value, ConvertError> {
    let mut access = MapDeserializer::new(
        map.iter()
            .map(|(k, v)| (k.as_str(), ValueRefDeserializer(v))),
    );
    let value = visitor.visit_map(&mut access)?;
    access.end()?;
    Ok(value)
}

impl<'de> de::Deserializer<'de> for MapRefDeserializer<'de> {
    type Error = ConvertError;

    fn is_human_readable(&self) -> bool {
        false
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
        map_ref(self.0, visitor)
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
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ConvertError> {
        ValueRefDeserializer::enum_of_map(self.0, name, variants, visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

impl<'de> ValueRefDeserializer<'de> {
    fn enum_of_map<V: Visitor<'de>>(
        m: &'de Map,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ConvertError> {
        if m.len() == 1 {
            let access =
                MapDeserializer::new(m.iter().map(|(k, v)| (k.as_str(), ValueRefDeserializer(v))));
            visitor.visit_enum(de::value::MapAccessDeserializer::new(access))
        } else {
            Err(de::Error::invalid_type(
                de::Unexpected::Map,
                &"an enum variant",
            ))
        }
    }
}

impl<'de> de::Deserializer<'de> for ValueRefDeserializer<'de> {
    type Error = ConvertError;

    fn is_human_readable(&self) -> bool {
        false
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(i) => visitor.visit_i64(*i),
            Value::Float(f) => visitor.visit_f64(*f),
            Value::Timestamp(t) => visitor.visit_i64(t.as_micros()),
            Value::Text(s) => visitor.visit_borrowed_str(s),
            Value::Bytes(b) => visitor.visit_borrowed_bytes(b),
            Value::List(items) => seq_ref(items, visitor),
            Value::Map(m) => map_ref(m, visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
        match self.0 {
            Value::Bytes(b) => {
                let mut access = SeqDeserializer::new(b.iter().map(|x| i64::from(*x)));
                let value = visitor.visit_seq(&mut access)?;
                access.end()?;
                Ok(value)
            }
            _ => self.deserialize_any(visitor),
        }
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
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ConvertError> {
        match self.0 {
            Value::Text(variant) => visitor.visit_enum(variant.as_str().into_deserializer()),
            Value::Map(m) if m.len() == 1 => Self::enum_of_map(m, name, variants, visitor),
            other => Err(de::Error::invalid_type(
                unexpected(other),
                &"an enum variant",
            )),
        }
    }

    timestamp_forms!();

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char bytes byte_buf
        unit unit_struct tuple_struct map struct identifier ignored_any
    }
}

pub(crate) fn unexpected(value: &Value) -> de::Unexpected<'_> {
    match value {
        Value::Null => de::Unexpected::Unit,
        Value::Bool(b) => de::Unexpected::Bool(*b),
        Value::Int(i) => de::Unexpected::Signed(*i),
        Value::Float(f) => de::Unexpected::Float(*f),
        Value::Timestamp(_) => de::Unexpected::Other("a timestamp"),
        Value::Text(s) => de::Unexpected::Str(s),
        Value::Bytes(b) => de::Unexpected::Bytes(b),
        Value::List(_) => de::Unexpected::Seq,
        Value::Map(_) => de::Unexpected::Map,
    }
}
