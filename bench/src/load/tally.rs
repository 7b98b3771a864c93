//! Reading a reaction room's counts message without building a JSON tree.
//!
//! Every client reads every broadcast, so in a 1,000-connection room this
//! parse runs a thousand times per reaction on the same two cores as the
//! server. Parsing into `serde_json::Value` allocated a map and a string per
//! key; this reads the two sums a client needs in one pass and allocates
//! only for keys that contain escapes.

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

/// What a client needs from `{"type":"counts","counts":{...}}`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Every kind's count, summed.
    pub total: u64,
    /// The count of the client's own kind.
    pub mine: u64,
}

/// Returns the tally of a counts message for `kind`, or `None` for any
/// other message; fields it does not know are ignored.
pub fn parse(text: &str, kind: &str) -> Option<Tally> {
    let mut json = serde_json::Deserializer::from_str(text);
    UpdateSeed { kind }.deserialize(&mut json).ok().flatten()
}

/// A JSON string, borrowed from the message unless it holds escapes.
struct Text<'de>(Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(json: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(s.to_owned())))
            }
        }
        json.deserialize_str(TextVisitor)
    }
}

/// The whole message: `type` must be `counts`.
struct UpdateSeed<'k> {
    kind: &'k str,
}

impl<'de> DeserializeSeed<'de> for UpdateSeed<'_> {
    type Value = Option<Tally>;
    fn deserialize<D: Deserializer<'de>>(self, json: D) -> Result<Self::Value, D::Error> {
        json.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for UpdateSeed<'_> {
    type Value = Option<Tally>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a counts message")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut is_counts = false;
        let mut tally = None;
        while let Some(Text(key)) = map.next_key()? {
            match key.as_ref() {
                "type" => is_counts = map.next_value::<Text>()?.0 == "counts",
                "counts" => tally = Some(map.next_value_seed(CountsSeed { kind: self.kind })?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(tally.filter(|_| is_counts))
    }
}

/// The `counts` object: kind → count.
struct CountsSeed<'k> {
    kind: &'k str,
}

impl<'de> DeserializeSeed<'de> for CountsSeed<'_> {
    type Value = Tally;
    fn deserialize<D: Deserializer<'de>>(self, json: D) -> Result<Tally, D::Error> {
        json.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for CountsSeed<'_> {
    type Value = Tally;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("counts by kind")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tally, A::Error> {
        let mut tally = Tally::default();
        while let Some(Text(kind)) = map.next_key()? {
            let count: u64 = map.next_value()?;
            tally.total = tally.total.saturating_add(count);
            if kind == self.kind {
                tally.mine = count;
            }
        }
        Ok(tally)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_every_kind_and_picks_its_own() {
        let text = r#"{"type":"counts","counts":{"heart":3,"fire":4},"people":2}"#;
        assert_eq!(parse(text, "fire"), Some(Tally { total: 7, mine: 4 }));
        assert_eq!(parse(text, "none"), Some(Tally { total: 7, mine: 0 }));
    }

    #[test]
    fn reads_fields_in_any_order_and_escaped_keys() {
        let text = r#"{"people":1,"counts":{"h\u0065art":2},"extra":[1,{"a":2}],"type":"counts"}"#;
        assert_eq!(parse(text, "heart"), Some(Tally { total: 2, mine: 2 }));
    }

    #[test]
    fn refuses_other_messages() {
        assert_eq!(parse(r#"{"type":"error","error":"bad"}"#, "heart"), None);
        assert_eq!(
            parse(r#"{"type":"other","counts":{"heart":1}}"#, "heart"),
            None
        );
        assert_eq!(parse(r#"{"counts":{"heart":1}}"#, "heart"), None);
        assert_eq!(
            parse(r#"{"type":"counts","counts":{"heart":-1}}"#, "heart"),
            None
        );
        assert_eq!(parse("not json", "heart"), None);
        assert_eq!(parse("[1,2]", "heart"), None);
    }
}
