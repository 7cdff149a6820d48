//! A YAML mapping that writes one key twice: the parser stops at the second
//! key; this finds where the first one is written, so the error can name
//! both lines.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{DuplicateKeyPolicy, Error, Location, Spanned};

use crate::config_positions::KeyText;
use crate::location::Position;

/// The key a duplicate-key error names and where its second writing is.
pub(crate) fn duplicate_key(error: &Error) -> Option<(Option<&str>, Location)> {
    let mut error = error;
    loop {
        match error {
            Error::WithSnippet { error: inner, .. } | Error::AliasError { error: inner, .. } => error = inner,
            Error::DuplicateMappingKey { key, location } => return Some((key.as_deref(), *location)),
            _ => return None,
        }
    }
}

/// Where the key written again at `second` was first written in its mapping,
/// reading `text` once more with duplicate keys passed through.
pub(crate) fn first_writing(text: &str, second: Location) -> Option<Position> {
    let found = Cell::new(None);
    let mut options = serde_saphyr::Options::default();
    options.duplicate_keys = DuplicateKeyPolicy::PassThrough;
    let seed = Finder { second, found: &found };
    // The walk stops early (with an error) once it has found the key.
    let _ = serde_saphyr::with_deserializer_from_str_with_options(text, options, |d| seed.deserialize(d));
    found.get()
}

/// Walks every value, looking for the mapping in which a key is written at
/// `second`.
#[derive(Clone, Copy)]
struct Finder<'a> {
    second: Location,
    found: &'a Cell<Option<Position>>,
}

impl<'de> DeserializeSeed<'de> for Finder<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        pocket_value::with_stack(|| deserializer.deserialize_any(self))
    }
}

impl<'de> Visitor<'de> for Finder<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut keys: Vec<(String, Location)> = Vec::new();
        while let Some(key) = map.next_key::<Spanned<KeyText>>()? {
            let (text, at) = (key.value.0, key.referenced);
            if same_place(at, self.second) {
                let first = keys.iter().find(|(k, _)| *k == text).map(|(_, at)| Position {
                    line: u32::try_from(at.line()).unwrap_or(u32::MAX),
                    column: u32::try_from(at.column()).unwrap_or(u32::MAX),
                });
                self.found.set(first);
                return Err(de::Error::custom("found"));
            }
            keys.push((text, at));
            map.next_value_seed(self)?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(self)?.is_some() {}
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }
}

fn same_place(a: Location, b: Location) -> bool {
    a.line() == b.line() && a.column() == b.column()
}
