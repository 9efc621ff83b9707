//! Typed values at the database edge: ids are newtypes over a UUID kept as its canonical
//! text, and statuses, roles and kinds are enums stored as text. Both are read and written
//! by diesel through one `FromSql`/`ToSql` pair each (the macros below), so a row holds
//! typed values and nothing after the query has to parse a string and handle a failure.
//! A value in the database that does not parse is a deserialisation error, which the one
//! error type turns into a logged internal error.

use std::fmt;

use uuid::Uuid;

/// A UUID as the 36 bytes of its lowercase hyphenated text: what the database stores and
/// JSON carries, so writing a bind parameter borrows it instead of formatting a string.
/// `Copy`, so ids pass around like integers.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UuidText([u8; 36]);

impl UuidText {
    pub fn from_uuid(uuid: Uuid) -> Self {
        let mut text = [0u8; 36];
        uuid.hyphenated().encode_lower(&mut text);
        UuidText(text)
    }

    /// Parses any form `uuid` accepts (upper case, braces, simple) into the canonical one.
    pub fn parse(text: &str) -> Option<Self> {
        Uuid::parse_str(text).ok().map(Self::from_uuid)
    }

    pub fn as_str(&self) -> &str {
        // Only `from_uuid` builds one, and it writes ASCII.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    pub fn uuid(&self) -> Uuid {
        Uuid::parse_str(self.as_str()).unwrap_or_default()
    }
}

impl fmt::Debug for UuidText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Declares an id newtype: a [`UuidText`] that diesel stores as `Text`, serde reads and
/// writes as a UUID string (a bad one fails deserialisation with "must be a UUID"), and
/// `FromStr` parses. In OpenAPI, annotate fields `#[schema(value_type = String, format = Uuid)]`.
#[macro_export]
macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, diesel::AsExpression, diesel::FromSqlRow)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub struct $name($crate::db::types::UuidText);

        impl $name {
            /// A new, time-ordered id (UUIDv7).
            pub fn new() -> Self {
                $name($crate::db::types::UuidText::from_uuid(uuid::Uuid::now_v7()))
            }

            pub fn parse(text: &str) -> Option<Self> {
                $crate::db::types::UuidText::parse(text).map($name)
            }

            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }

            pub fn uuid(&self) -> uuid::Uuid {
                self.0.uuid()
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl From<uuid::Uuid> for $name {
            fn from(uuid: uuid::Uuid) -> Self {
                $name($crate::db::types::UuidText::from_uuid(uuid))
            }
        }

        impl std::str::FromStr for $name {
            type Err = &'static str;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Self::parse(text).ok_or("must be a UUID")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({})", stringify!($name), self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                Self::parse(&text).ok_or_else(|| serde::de::Error::custom("must be a UUID"))
            }
        }

        $crate::text_sql!($name, |text| $name::parse(text).ok_or_else(|| format!("{} `{text}` is not a UUID", stringify!($name))));
    };
}

/// Declares an enum stored as text: each variant with the exact text the database, JSON
/// and OpenAPI use. Generates `ALL`, `as_str`, `parse`, `Display`, `FromStr`, serde and
/// utoipa derives, and the diesel `Text` mapping (an unknown stored value is an error).
#[macro_export]
macro_rules! text_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:tt),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
                 serde::Serialize, serde::Deserialize, utoipa::ToSchema,
                 diesel::AsExpression, diesel::FromSqlRow)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        $vis enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// The accepted values, for messages: `a, b or c`.
            pub fn choices() -> String {
                $crate::db::types::choices(Self::ALL.iter().map(|v| v.as_str()))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Self::parse(text).ok_or_else(|| format!("must be one of {}", Self::choices()))
            }
        }

        $crate::text_sql!($name, |text| $name::parse(text).ok_or_else(|| format!("unknown {} `{text}`", stringify!($name))));
    };
}

/// The diesel `Text` mapping of a type with `as_str(&self) -> &str`, for every backend
/// (the multi-connection backend and each one it wraps, which inserts and `IN (…)` lists
/// go through): written as its text, read back through `parse`, which names what is wrong.
#[macro_export]
macro_rules! text_sql {
    ($name:ident, $parse:expr) => {
        $crate::text_sql!(@backend $name, $parse, $crate::db::Backend);
        $crate::text_sql!(@backend $name, $parse, diesel::pg::Pg);
        $crate::text_sql!(@backend $name, $parse, diesel::sqlite::Sqlite);
    };
    (@backend $name:ident, $parse:expr, $backend:ty) => {
        impl diesel::deserialize::FromSql<diesel::sql_types::Text, $backend> for $name {
            fn from_sql(
                bytes: <$backend as diesel::backend::Backend>::RawValue<'_>,
            ) -> diesel::deserialize::Result<Self> {
                let text =
                    <String as diesel::deserialize::FromSql<diesel::sql_types::Text, $backend>>::from_sql(bytes)?;
                let parse: fn(&str) -> Result<$name, String> = $parse;
                Ok(parse(&text)?)
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, $backend> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, $backend>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, $backend>>::to_sql(
                    self.as_str(),
                    out,
                )
            }
        }
    };
}

/// `a, b or c`.
pub fn choices<'a>(values: impl Iterator<Item = &'a str>) -> String {
    let values: Vec<&str> = values.collect();
    match values.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        Some((last, _)) => (*last).to_string(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::id_type!(
        /// An id for the tests.
        ThingId
    );

    crate::text_enum! {
        /// A kind for the tests.
        pub enum Colour { Red = "red", DeepBlue = "deep_blue" }
    }

    #[test]
    fn ids_are_canonical_uuid_text() {
        let upper = "0193A0B2-7C3D-7E4F-8A9B-0C1D2E3F4A5B";
        let id: ThingId = upper.parse().unwrap();
        assert_eq!(id.as_str(), upper.to_lowercase());
        assert_eq!(id.uuid().to_string(), upper.to_lowercase());
        assert!("not-a-uuid".parse::<ThingId>().is_err());
        assert_ne!(ThingId::new(), ThingId::new());
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{}\"", upper.to_lowercase()));
        assert_eq!(serde_json::from_str::<ThingId>(&json).unwrap(), id);
        let bad = serde_json::from_str::<ThingId>("\"x\"").unwrap_err();
        assert!(bad.to_string().contains("must be a UUID"), "{bad}");
    }

    #[test]
    fn enums_use_their_declared_text_everywhere() {
        for colour in Colour::ALL {
            assert_eq!(Colour::parse(colour.as_str()), Some(*colour));
            let json = serde_json::to_string(colour).unwrap();
            assert_eq!(json, format!("\"{}\"", colour.as_str()));
        }
        assert_eq!(Colour::DeepBlue.to_string(), "deep_blue");
        assert_eq!(Colour::parse("Red"), None);
        assert_eq!(
            "green".parse::<Colour>().unwrap_err(),
            "must be one of red or deep_blue"
        );
        assert_eq!(choices(["a", "b", "c"].into_iter()), "a, b or c");
    }
}
