//! Citing one field of a record without converting the whole record.
//!
//! A finding cites facts such as `task.path("stopCode")`. Serialising the whole task to a JSON
//! value to read one field cost more than running the rules (issue #6), so `field` serialises
//! only the field asked for: a serde serializer that walks a struct's fields by name and
//! converts just the one that matches.

use serde::Serialize;
use serde::ser::{self, Impossible, SerializeStruct};
use serde_json::Value;

/// The value of the top-level field `name` of `record`, or `None` when `record` is not a struct
/// (the caller then falls back to converting all of it) or has no such field.
pub(crate) fn field<T: Serialize + ?Sized>(record: &T, name: &str) -> Option<Value> {
    record.serialize(Picker { wanted: name }).ok().flatten()
}

struct Picker<'a> {
    wanted: &'a str,
}

struct PickField<'a> {
    wanted: &'a str,
    found: Option<Value>,
}

type Error = serde_json::Error;

fn not_a_struct<T>() -> Result<T, Error> {
    Err(ser::Error::custom("not a struct"))
}

impl SerializeStruct for PickField<'_> {
    type Ok = Option<Value>;
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        if self.found.is_none() && key == self.wanted {
            self.found = Some(serde_json::to_value(value)?);
        }
        Ok(())
    }

    fn end(self) -> Result<Option<Value>, Error> {
        Ok(self.found)
    }
}

impl<'a> ser::Serializer for Picker<'a> {
    type Ok = Option<Value>;
    type Error = Error;
    type SerializeSeq = Impossible<Option<Value>, Error>;
    type SerializeTuple = Impossible<Option<Value>, Error>;
    type SerializeTupleStruct = Impossible<Option<Value>, Error>;
    type SerializeTupleVariant = Impossible<Option<Value>, Error>;
    type SerializeMap = Impossible<Option<Value>, Error>;
    type SerializeStruct = PickField<'a>;
    type SerializeStructVariant = Impossible<Option<Value>, Error>;

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<PickField<'a>, Error> {
        Ok(PickField {
            wanted: self.wanted,
            found: None,
        })
    }

    fn serialize_bool(self, _: bool) -> Result<Self::Ok, Error> {
        not_a_struct()
    }
    fn serialize_i8(self, _: i8) -> Result<Self::Ok, Error> {
        not_a_struct()
    }
    fn serialize_i16(self, _: i16) -> Result<Self::Ok, Error> {
        not_a_struct()
    }
    fn serialize_i32(self, _: i32) -> Result<Self::Ok, Error> {
        not_a_struct()
    }
    fn serialize_i64(self, _: i64) -> Result<Self::Ok, Error> {
        not_a_struct()
    }
    fn serialize_u8(self, _: u8) -> Result<Self::Ok, Error> {
        not_a_struct()
    }
    fn serialize_u16(self, _: u16) -> Result<Self::Ok, Error> {
        not_a_struct()
    }
    fn serialize_u32(self, _: u32) -> Result<Self::Ok, Error> {
        not_a_struct()
    }
    fn serialize_u64(self, _: u64) -> Result<Self::Ok, Error> {
        not_a_struct()
    }
    fn serialize_f32(self, _: f32) -> Result<Self::Ok, Error> {
        not_a_struct()
    }
    fn serialize_f64(self, _: f64) -> Result<Self::Ok, Error> {
        not_a_struct()
    }
    fn serialize_char(self, _: char) -> Result<Self::Ok, Error> {
        not_a_struct()
    }
    fn serialize_str(self, _: &str) -> Result<Self::Ok, Error> {
        not_a_struct()
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<Self::Ok, Error> {
        not_a_struct()
    }
    fn serialize_none(self) -> Result<Self::Ok, Error> {
        not_a_struct()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<Self::Ok, Error> {
        not_a_struct()
    }
    fn serialize_unit(self) -> Result<Self::Ok, Error> {
        not_a_struct()
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Self::Ok, Error> {
        not_a_struct()
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<Self::Ok, Error> {
        not_a_struct()
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: &T,
    ) -> Result<Self::Ok, Error> {
        not_a_struct()
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Self::Ok, Error> {
        not_a_struct()
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        not_a_struct()
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
        not_a_struct()
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        not_a_struct()
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        not_a_struct()
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
        not_a_struct()
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        not_a_struct()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::field;

    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Record {
        stop_code: Option<String>,
        exit_codes: Vec<i64>,
    }

    #[test]
    fn picks_one_field_by_its_serialized_name() {
        let record = Record {
            stop_code: Some("EssentialContainerExited".to_owned()),
            exit_codes: vec![1, 137],
        };
        assert_eq!(
            field(&record, "stopCode"),
            Some(json!("EssentialContainerExited"))
        );
        assert_eq!(field(&record, "exitCodes"), Some(json!([1, 137])));
        assert_eq!(field(&record, "stop_code"), None);
        assert_eq!(field(&record, "missing"), None);
    }

    #[test]
    fn anything_but_a_struct_is_not_picked_from() {
        assert_eq!(field(&json!({"stopCode": "x"}), "stopCode"), None);
        assert_eq!(field(&5, "stopCode"), None);
    }
}
