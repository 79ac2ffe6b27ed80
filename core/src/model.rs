//! Declared API models: a record or request body is declared once, one line per field, and
//! its parser, writer, validation and renderer come from that declaration.
//!
//! ```
//! use wxpay_core::heapless::String;
//! use wxpay_core::model::Rule;
//!
//! wxpay_core::record! {
//!     /// A made-up answer with three fields.
//!     pub struct Greeting {
//!         /// Required: absent is `MissingField { field: "mchid" }`.
//!         mchid: String<32> where Rule::bytes(1, 32),
//!         /// Optional: absent or `null` is `None`.
//!         text: Option<String<60>> where Rule::chars(0, 20),
//!         /// The Rust name differs from the JSON key.
//!         kind as "type": Option<i64> where Rule::range(0, 9),
//!     }
//! }
//!
//! let g = Greeting::from_json(br#"{"mchid":"1230000109","text":"\u4f60\u597d","type":1}"#)?;
//! assert_eq!(g.text.as_deref(), Some("你好"));
//! let mut buf = [0u8; 64];
//! assert_eq!(g.write_json(&mut buf), Ok(r#"{"mchid":"1230000109","text":"你好","type":1}"#));
//! # Ok::<(), wxpay_core::ParseError>(())
//! ```
//!
//! A field line is `name [as "json_key"]: Type [where RULE]`. The key is written once (the
//! field's name unless `as` gives another); `Option<T>` makes a field optional (`null` counts
//! as absent); a [`heapless::Vec`] is an array whose overflow is an error naming the field (an
//! absent array is empty). What the declaration yields:
//!
//! - `from_json(body)`: parses a **verified** answer with [`Reader`]: escapes decoded straight
//!   into fixed capacity, unknown keys skipped, a repeated key refused (for any number of
//!   fields), the failing field named; `from_json_strict(body)` refuses unknown keys too (for
//!   request bodies a user wrote);
//! - `validate()`: every [`Rule`] checked, the field named on failure: request values are
//!   checked before anything is signed;
//! - `to_json(buf)`: `validate()`, then the canonical body; `write_json(buf)` renders any
//!   record (CLI, WASM and emulator output), `BufferTooSmall { needed }` when short;
//! - `serde::Serialize` behind the `serde` feature, `defmt::Format` behind `defmt`.
//!
//! Why `macro_rules!` and not a derive: see `docs/design.md` (no proc-macro crate to build and
//! publish, and the expansion is plain code a reviewer can read with `cargo expand`).

use heapless::{String, Vec};

use crate::error::{Error, ParseError, Problem};
use crate::json::{Reader, Writer};
use crate::time::{DateTime, TIME_CAPACITY, Timestamp};

/// A documented limit on one field, checked by `validate()` before anything is signed.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Rule {
    /// No limit beyond the type's capacity.
    Any,
    /// Text length in bytes (UTF-8), inclusive bounds.
    Bytes {
        /// Fewest bytes (1 means required and non-empty).
        min: usize,
        /// Most bytes.
        max: usize,
    },
    /// Text length in characters (a CJK character is one), inclusive bounds.
    Chars {
        /// Fewest characters.
        min: usize,
        /// Most characters.
        max: usize,
    },
    /// ASCII text of `min..=max` bytes, each byte accepted by `allowed`.
    Charset {
        /// Fewest bytes.
        min: usize,
        /// Most bytes.
        max: usize,
        /// The accepted bytes.
        allowed: fn(u8) -> bool,
        /// The set, for the error, e.g. `"[0-9A-Za-z_-|*]"`.
        name: &'static str,
    },
    /// An integer in `min..=max`.
    Range {
        /// Smallest.
        min: i64,
        /// Largest.
        max: i64,
    },
    /// An array of `min..=max` items (each item checks its own rules).
    Items {
        /// Fewest items.
        min: usize,
        /// Most items.
        max: usize,
    },
    /// A Beijing-time `yyyyMMddHHmmss` (a real calendar time), optionally also `yyyyMMdd`
    /// and the literal `OnAccept` (when the user confirms).
    CompactTime {
        /// `yyyyMMdd` is accepted too.
        date: bool,
        /// `OnAccept` is accepted too.
        on_accept: bool,
    },
    /// One of a fixed set of values.
    OneOf {
        /// The values.
        values: &'static [&'static str],
        /// The set, for the error.
        name: &'static str,
    },
}

impl Rule {
    /// Text of `min..=max` bytes.
    pub const fn bytes(min: usize, max: usize) -> Rule {
        Rule::Bytes { min, max }
    }
    /// Text of `min..=max` characters.
    pub const fn chars(min: usize, max: usize) -> Rule {
        Rule::Chars { min, max }
    }
    /// An integer in `min..=max`.
    pub const fn range(min: i64, max: i64) -> Rule {
        Rule::Range { min, max }
    }
    /// An array of `min..=max` items.
    pub const fn items(min: usize, max: usize) -> Rule {
        Rule::Items { min, max }
    }

    /// Checks text against this rule.
    ///
    /// Always inlined, each kind of rule checked out of line: a call site with a constant rule
    /// (a field's declared rule) links only the check it uses, not the calendar and character
    /// counting of the others (about 0.7 KiB on a Cortex-M4).
    #[inline(always)]
    pub fn check_text(&self, text: &str, field: &'static str) -> Result<(), Error> {
        match *self {
            Rule::Bytes { min, max } => check_bytes(text.len(), min, max, field),
            Rule::Chars { min, max } => check_chars(text, min, max, field),
            Rule::Charset {
                min,
                max,
                allowed,
                name,
            } => check_charset(text, min, max, allowed, name, field),
            Rule::OneOf { values, name } => check_one_of(text, values, name, field),
            Rule::CompactTime { date, on_accept } => {
                check_compact_time(text, date, on_accept, field)
            }
            Rule::Any | Rule::Range { .. } | Rule::Items { .. } => Ok(()),
        }
    }

    /// Checks an integer against this rule.
    pub fn check_int(&self, value: i128, field: &'static str) -> Result<(), Error> {
        match *self {
            Rule::Range { min, max } if value < i128::from(min) || value > i128::from(max) => {
                Err(Error::Invalid {
                    field,
                    problem: Problem::OutOfRange { min, max },
                })
            }
            _ => Ok(()),
        }
    }
}

/// [`Rule::check_text`] with a rule known only at run time (a declared field's, through
/// [`Value::check`]): one shared copy of the dispatch instead of one per string capacity.
#[inline(never)]
fn check_text_shared(rule: &Rule, text: &str, field: &'static str) -> Result<(), Error> {
    rule.check_text(text, field)
}

fn invalid(field: &'static str, problem: Problem) -> Result<(), Error> {
    Err(Error::Invalid { field, problem })
}

/// [`Rule::Bytes`]: `len` bytes within `min..=max`.
fn check_bytes(len: usize, min: usize, max: usize, field: &'static str) -> Result<(), Error> {
    if len < min {
        return invalid(field, Problem::Empty);
    }
    if len > max {
        return invalid(field, Problem::TooManyBytes { max });
    }
    Ok(())
}

/// [`Rule::Chars`].
fn check_chars(text: &str, min: usize, max: usize, field: &'static str) -> Result<(), Error> {
    let count = text.chars().count();
    if count < min {
        return invalid(field, Problem::Empty);
    }
    if count > max {
        return invalid(field, Problem::TooManyChars { max });
    }
    Ok(())
}

/// [`Rule::Charset`].
fn check_charset(
    text: &str,
    min: usize,
    max: usize,
    allowed: fn(u8) -> bool,
    name: &'static str,
    field: &'static str,
) -> Result<(), Error> {
    check_bytes(text.len(), min, max, field)?;
    if !text.bytes().all(allowed) {
        return invalid(field, Problem::Charset { allowed: name });
    }
    Ok(())
}

/// [`Rule::OneOf`].
fn check_one_of(
    text: &str,
    values: &[&str],
    name: &'static str,
    field: &'static str,
) -> Result<(), Error> {
    if !values.contains(&text) {
        return invalid(field, Problem::NotInSet { allowed: name });
    }
    Ok(())
}

/// [`Rule::CompactTime`].
fn check_compact_time(
    text: &str,
    date: bool,
    on_accept: bool,
    field: &'static str,
) -> Result<(), Error> {
    let ok = (on_accept && text == "OnAccept")
        || (text.len() == 14 && DateTime::parse_compact_beijing(text).is_some())
        || (date && is_compact_date(text));
    if !ok {
        return invalid(
            field,
            Problem::Time {
                format: match (date, on_accept) {
                    (true, true) => "yyyyMMddHHmmss, yyyyMMdd or OnAccept",
                    (true, false) => "yyyyMMddHHmmss or yyyyMMdd",
                    (false, true) => "yyyyMMddHHmmss or OnAccept",
                    (false, false) => "yyyyMMddHHmmss",
                },
            },
        );
    }
    Ok(())
}

/// `yyyyMMdd`, a real calendar date (checked as its midnight).
fn is_compact_date(text: &str) -> bool {
    let mut midnight = [b'0'; 14];
    match (midnight.get_mut(..8), text.len()) {
        (Some(day), 8) => day.copy_from_slice(text.as_bytes()),
        _ => return false,
    }
    core::str::from_utf8(&midnight).is_ok_and(|t| DateTime::parse_compact_beijing(t).is_some())
}

/// Text into a fixed-capacity string; a longer value is refused with its field named.
pub fn text<const N: usize>(field: &'static str, value: &str) -> Result<String<N>, Error> {
    String::try_from(value).map_err(|_| Error::Invalid {
        field,
        problem: Problem::TooManyBytes { max: N },
    })
}

/// A value that becomes a path segment: its rule, and never `.` or `..` (which a normalising
/// proxy would resolve to another endpoint).
pub fn check_segment(value: &str, field: &'static str, rule: &Rule) -> Result<(), Error> {
    rule.check_text(value, field)?;
    if value == "." || value == ".." {
        return Err(Error::Invalid {
            field,
            problem: Problem::DotSegment,
        });
    }
    Ok(())
}

/// `[0-9A-Za-z_-|*]`: authorization codes and merchant order numbers.
pub fn is_code_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'|' | b'*')
}

/// One kind of value in a declared model: how it is read, written and checked.
///
/// Implemented for `heapless::String<N>`, integers, `bool`, `Option<T>`, `heapless::Vec<T, N>`,
/// times, enums declared with [`text_enum!`](crate::text_enum) and records declared with
/// [`record!`](crate::record).
pub trait Value: Sized {
    /// Reads the value at the cursor; `field` names it in errors.
    fn read(r: &mut Reader<'_>, field: &'static str) -> Result<Self, ParseError>;
    /// Reads the value at the cursor into `self` (records parse in place, so a large record
    /// is not copied through `Result` layers); on error `self` is unspecified.
    fn read_into(&mut self, r: &mut Reader<'_>, field: &'static str) -> Result<(), ParseError> {
        *self = Self::read(r, field)?;
        Ok(())
    }
    /// A value to parse into before the member is seen (never handed out: a required member
    /// that stays absent is an error).
    fn placeholder() -> Self;
    /// What an absent member means: an error for required values.
    fn absent(field: &'static str) -> Result<Self, ParseError> {
        Err(ParseError::MissingField { field })
    }
    /// Writes the value.
    fn write(&self, w: &mut Writer<'_>);
    /// Whether the member is written at all (`None` and empty arrays are left out).
    fn present(&self) -> bool {
        true
    }
    /// Checks the value against its declared rule.
    fn check(&self, rule: &Rule, field: &'static str) -> Result<(), Error>;
    /// Serializes the value (feature `serde`).
    #[cfg(feature = "serde")]
    fn serialize_value<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error>;
}

impl<const N: usize> Value for String<N> {
    fn placeholder() -> Self {
        String::new()
    }
    fn read(r: &mut Reader<'_>, field: &'static str) -> Result<Self, ParseError> {
        r.read_str(field)
    }
    fn read_into(&mut self, r: &mut Reader<'_>, field: &'static str) -> Result<(), ParseError> {
        r.read_str_into(self, field)
    }
    fn write(&self, w: &mut Writer<'_>) {
        w.string(self);
    }
    fn check(&self, rule: &Rule, field: &'static str) -> Result<(), Error> {
        check_text_shared(rule, self, field)
    }
    #[cfg(feature = "serde")]
    fn serialize_value<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self)
    }
}

macro_rules! integer_value {
    ($($t:ty),*) => {$(
        impl Value for $t {
            fn placeholder() -> Self {
                0
            }
            fn read(r: &mut Reader<'_>, field: &'static str) -> Result<Self, ParseError> {
                let n = r.read_i64(field)?;
                <$t>::try_from(n).map_err(|_| ParseError::WrongType { field })
            }
            fn write(&self, w: &mut Writer<'_>) {
                w.i64(i64::from(*self));
            }
            fn check(&self, rule: &Rule, field: &'static str) -> Result<(), Error> {
                rule.check_int(i128::from(*self), field)
            }
            #[cfg(feature = "serde")]
            fn serialize_value<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_i64(i64::from(*self))
            }
        }
    )*};
}
integer_value!(i64, i32, u32, u16, u8);

impl Value for u64 {
    fn placeholder() -> Self {
        0
    }
    fn read(r: &mut Reader<'_>, field: &'static str) -> Result<Self, ParseError> {
        r.read_u64(field)
    }
    fn write(&self, w: &mut Writer<'_>) {
        w.u64(*self);
    }
    fn check(&self, rule: &Rule, field: &'static str) -> Result<(), Error> {
        rule.check_int(i128::from(*self), field)
    }
    #[cfg(feature = "serde")]
    fn serialize_value<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(*self)
    }
}

impl Value for bool {
    fn placeholder() -> Self {
        false
    }
    fn read(r: &mut Reader<'_>, field: &'static str) -> Result<Self, ParseError> {
        r.read_bool(field)
    }
    fn write(&self, w: &mut Writer<'_>) {
        w.bool(*self);
    }
    fn check(&self, _: &Rule, _: &'static str) -> Result<(), Error> {
        Ok(())
    }
    #[cfg(feature = "serde")]
    fn serialize_value<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bool(*self)
    }
}

impl<T: Value> Value for Option<T> {
    fn placeholder() -> Self {
        None
    }
    fn read(r: &mut Reader<'_>, field: &'static str) -> Result<Self, ParseError> {
        if r.take_null() {
            Ok(None)
        } else {
            T::read(r, field).map(Some)
        }
    }
    fn read_into(&mut self, r: &mut Reader<'_>, field: &'static str) -> Result<(), ParseError> {
        if r.take_null() {
            *self = None;
            Ok(())
        } else {
            self.get_or_insert_with(T::placeholder).read_into(r, field)
        }
    }
    fn absent(_: &'static str) -> Result<Self, ParseError> {
        Ok(None)
    }
    fn write(&self, w: &mut Writer<'_>) {
        if let Some(v) = self {
            v.write(w);
        }
    }
    fn present(&self) -> bool {
        self.as_ref().is_some_and(Value::present)
    }
    fn check(&self, rule: &Rule, field: &'static str) -> Result<(), Error> {
        match self {
            Some(v) => v.check(rule, field),
            None => Ok(()),
        }
    }
    #[cfg(feature = "serde")]
    fn serialize_value<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Some(v) => v.serialize_value(s),
            None => s.serialize_none(),
        }
    }
}

impl<T: Value, const N: usize> Value for Vec<T, N> {
    fn placeholder() -> Self {
        Vec::new()
    }
    fn read(r: &mut Reader<'_>, field: &'static str) -> Result<Self, ParseError> {
        let mut items = Vec::new();
        items.read_into(r, field)?;
        Ok(items)
    }
    /// In place: an array of records is not built on the stack and then copied out.
    fn read_into(&mut self, r: &mut Reader<'_>, field: &'static str) -> Result<(), ParseError> {
        self.clear();
        if r.take_null() {
            return Ok(());
        }
        r.read_array(field, |r| {
            self.push(T::placeholder())
                .map_err(|_| ParseError::TooMany { field, max: N })?;
            match self.last_mut() {
                Some(item) => item.read_into(r, field),
                None => Err(ParseError::TooMany { field, max: N }),
            }
        })
    }
    fn absent(_: &'static str) -> Result<Self, ParseError> {
        Ok(Vec::new())
    }
    fn write(&self, w: &mut Writer<'_>) {
        w.begin_array();
        for item in self {
            item.write(w);
        }
        w.end_array();
    }
    fn present(&self) -> bool {
        !self.is_empty()
    }
    fn check(&self, rule: &Rule, field: &'static str) -> Result<(), Error> {
        if let Rule::Items { min, max } = *rule {
            let problem = if self.len() < min {
                Some(Problem::TooFew { min })
            } else if self.len() > max {
                Some(Problem::TooMany { max })
            } else {
                None
            };
            if let Some(problem) = problem {
                return Err(Error::Invalid { field, problem });
            }
        }
        for item in self {
            item.check(&Rule::Any, field)?;
        }
        Ok(())
    }
    #[cfg(feature = "serde")]
    fn serialize_value<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.len()))?;
        for item in self {
            seq.serialize_element(&Ser(item))?;
        }
        seq.end()
    }
}

impl Value for Timestamp {
    fn placeholder() -> Self {
        Timestamp::placeholder()
    }
    fn read(r: &mut Reader<'_>, field: &'static str) -> Result<Self, ParseError> {
        Timestamp::new(r.read_str::<TIME_CAPACITY>(field)?)
            .ok_or(ParseError::InvalidValue { field })
    }
    fn write(&self, w: &mut Writer<'_>) {
        w.string(self.as_str());
    }
    fn check(&self, _: &Rule, _: &'static str) -> Result<(), Error> {
        Ok(())
    }
    #[cfg(feature = "serde")]
    fn serialize_value<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Serializes any [`Value`] (feature `serde`).
#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
#[derive(Debug)]
pub struct Ser<'v, T>(pub &'v T);

#[cfg(feature = "serde")]
impl<T: Value> serde::Serialize for Ser<'_, T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_value(s)
    }
}

/// A declared record or request body (implemented by [`record!`](crate::record)).
pub trait Record: Value {
    /// Parses a **verified** answer: unknown keys are skipped.
    fn from_json(body: &[u8]) -> Result<Self, ParseError> {
        let mut out = Self::placeholder();
        Reader::document(body, false, |r| out.read_into(r, "<body>"))?;
        Ok(out)
    }

    /// [`Record::from_json`] into a caller's record (firmware keeps one in a `static` or on
    /// its stack once); on error the record's content is unspecified.
    fn parse_into(&mut self, body: &[u8]) -> Result<(), ParseError> {
        Reader::document(body, false, |r| self.read_into(r, "<body>"))
    }

    /// Parses a request body a user wrote: unknown keys are refused
    /// ([`ParseError::UnknownField`]), so a typo is never dropped silently.
    fn from_json_strict(body: &[u8]) -> Result<Self, ParseError> {
        let mut out = Self::placeholder();
        Reader::document(body, true, |r| out.read_into(r, "<body>"))?;
        Ok(out)
    }

    /// Checks every declared rule; the error names the field.
    fn validate(&self) -> Result<(), Error> {
        self.check(&Rule::Any, "<body>")
    }

    /// Renders the record as JSON (members in declaration order, absent ones left out).
    fn write_json<'b>(&self, buf: &'b mut [u8]) -> Result<&'b str, Error> {
        let mut w = Writer::render(buf);
        self.write(&mut w);
        w.finish()
    }

    /// [`Record::validate`], then the canonical body to sign and send (characters of four
    /// UTF-8 bytes refused: APIv3 accepts 1–3).
    fn to_json<'b>(&self, buf: &'b mut [u8]) -> Result<&'b str, Error> {
        self.validate()?;
        let mut w = Writer::new(buf);
        self.write(&mut w);
        w.finish()
    }
}

/// Expands to its input when wxpay-core has the `serde` feature (evaluated in this crate,
/// so declarations elsewhere follow wxpay-core's features, not their own crate's).
#[doc(hidden)]
#[cfg(feature = "serde")]
#[macro_export]
macro_rules! __if_serde {
    ($($item:tt)*) => { $($item)* };
}

/// See the `serde` twin above.
#[doc(hidden)]
#[cfg(not(feature = "serde"))]
#[macro_export]
macro_rules! __if_serde {
    ($($item:tt)*) => {};
}

/// Expands to its input when wxpay-core has the `defmt` feature.
#[doc(hidden)]
#[cfg(feature = "defmt")]
#[macro_export]
macro_rules! __if_defmt {
    ($($item:tt)*) => { $($item)* };
}

/// See the `defmt` twin above.
#[doc(hidden)]
#[cfg(not(feature = "defmt"))]
#[macro_export]
macro_rules! __if_defmt {
    ($($item:tt)*) => {};
}

/// The JSON key of a declared field: its name, or the literal given with `as`.
#[doc(hidden)]
#[macro_export]
macro_rules! __record_key {
    ($name:ident) => {
        stringify!($name)
    };
    ($name:ident $key:literal) => {
        $key
    };
}

/// The rule of a declared field, [`Rule::Any`] when none is given.
#[doc(hidden)]
#[macro_export]
macro_rules! __record_rule {
    () => {
        $crate::model::Rule::Any
    };
    ($rule:expr) => {
        $rule
    };
}

/// Declares a record or request body: one line per field. See the [module docs](crate::model).
#[macro_export]
macro_rules! record {
    (
        $(#[$attr:meta])*
        $vis:vis struct $name:ident $(< $(const $cap:ident : usize = $default:literal),+ >)? {
            $(
                $(#[$field_attr:meta])*
                $field:ident $(as $key:literal)? : $ty:ty $(where $rule:expr)?
            ),* $(,)?
        }
    ) => {
        $(#[$attr])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        $vis struct $name $(< $(const $cap: usize = $default),+ >)? {
            $(
                $(#[$field_attr])*
                pub $field: $ty,
            )*
        }

        impl<$($(const $cap: usize),+)?> $crate::model::Value for $name<$($($cap),+)?> {
            fn read(
                r: &mut $crate::json::Reader<'_>,
                field: &'static str,
            ) -> ::core::result::Result<Self, $crate::ParseError> {
                let mut out = <Self as $crate::model::Value>::placeholder();
                out.read_into(r, field)?;
                Ok(out)
            }

            fn read_into(
                &mut self,
                r: &mut $crate::json::Reader<'_>,
                field: &'static str,
            ) -> ::core::result::Result<(), $crate::ParseError> {
                // Parsed in place (no copy of the record through `Result` layers); one flag
                // per field refuses a repeated key, whatever the number of fields.
                $( let mut $field = false; )*
                r.read_object(field, |key, r| match key {
                    $(
                        $crate::__record_key!($field $($key)?) => {
                            if $field {
                                return Err($crate::ParseError::DuplicateField {
                                    field: $crate::__record_key!($field $($key)?),
                                });
                            }
                            $field = true;
                            $crate::model::Value::read_into(
                                &mut self.$field,
                                r,
                                $crate::__record_key!($field $($key)?),
                            )
                        }
                    )*
                    _ => r.skip_member(),
                })?;
                $(
                    if !$field {
                        self.$field = <$ty as $crate::model::Value>::absent(
                            $crate::__record_key!($field $($key)?),
                        )?;
                    }
                )*
                Ok(())
            }

            fn placeholder() -> Self {
                Self {
                    $( $field: <$ty as $crate::model::Value>::placeholder(), )*
                }
            }

            fn write(&self, w: &mut $crate::json::Writer<'_>) {
                w.begin_object();
                $(
                    if $crate::model::Value::present(&self.$field) {
                        w.key($crate::__record_key!($field $($key)?));
                        $crate::model::Value::write(&self.$field, w);
                    }
                )*
                w.end_object();
            }

            fn check(
                &self,
                _: &$crate::model::Rule,
                _: &'static str,
            ) -> ::core::result::Result<(), $crate::Error> {
                $(
                    $crate::model::Value::check(
                        &self.$field,
                        &$crate::__record_rule!($($rule)?),
                        $crate::__record_key!($field $($key)?),
                    )?;
                )*
                Ok(())
            }

            $crate::__if_serde! {
            fn serialize_value<S: $crate::__serde::Serializer>(
                &self,
                s: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                use $crate::__serde::ser::SerializeMap;
                let mut map = s.serialize_map(None)?;
                $(
                    if $crate::model::Value::present(&self.$field) {
                        map.serialize_entry(
                            $crate::__record_key!($field $($key)?),
                            &$crate::model::Ser(&self.$field),
                        )?;
                    }
                )*
                map.end()
            }
            }
        }

        impl<$($(const $cap: usize),+)?> $crate::model::Record for $name<$($($cap),+)?> {}

        $crate::__if_defmt! {
            impl<$($(const $cap: usize),+)?> $crate::__defmt::Format for $name<$($($cap),+)?> {
                fn format(&self, f: $crate::__defmt::Formatter<'_>) {
                    $crate::__defmt::write!(f, "{=str} {{", stringify!($name));
                    $(
                        $crate::__defmt::write!(
                            f,
                            " {=str}: {:?}",
                            $crate::__record_key!($field $($key)?),
                            self.$field
                        );
                    )*
                    $crate::__defmt::write!(f, " }}");
                }
            }
        }

        #[allow(dead_code)]
        impl<$($(const $cap: usize),+)?> $name<$($($cap),+)?> {
            /// Parses a **verified** answer (unknown keys skipped, repeated keys refused).
            pub fn from_json(body: &[u8]) -> ::core::result::Result<Self, $crate::ParseError> {
                <Self as $crate::model::Record>::from_json(body)
            }

            /// Renders the record as JSON into `buf`.
            pub fn write_json<'b>(
                &self,
                buf: &'b mut [u8],
            ) -> ::core::result::Result<&'b str, $crate::Error> {
                <Self as $crate::model::Record>::write_json(self, buf)
            }

            /// Checks every declared rule, then writes the canonical body into `buf`.
            pub fn to_json<'b>(
                &self,
                buf: &'b mut [u8],
            ) -> ::core::result::Result<&'b str, $crate::Error> {
                <Self as $crate::model::Record>::to_json(self, buf)
            }
        }

        $crate::__if_serde! {
        impl<$($(const $cap: usize),+)?> $crate::__serde::Serialize for $name<$($($cap),+)?> {
            fn serialize<S: $crate::__serde::Serializer>(
                &self,
                s: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                $crate::model::Value::serialize_value(self, s)
            }
        }
        }
    };
}

/// Declares an enum of documented text values that keeps unknown values as received
/// (`Other`), with a capacity in bytes for them.
#[macro_export]
macro_rules! text_enum {
    (
        $(#[$attr:meta])*
        $vis:vis enum $name:ident ($cap:literal) {
            $( $(#[$var_attr:meta])* $variant:ident = $text:literal ),* $(,)?
        }
    ) => {
        $(#[$attr])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$var_attr])* $variant, )*
            /// A value this client does not know yet, kept as received.
            Other($crate::heapless::String<$cap>),
        }

        #[allow(dead_code)]
        impl $name {
            /// The documented values.
            pub const KNOWN: &'static [&'static str] = &[$($text),*];

            /// Classifies a received value.
            pub fn from_text(text: $crate::heapless::String<$cap>) -> Self {
                match text.as_str() {
                    $( $text => $name::$variant, )*
                    _ => $name::Other(text),
                }
            }

            /// The value as the API writes it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $text, )*
                    $name::Other(text) => text,
                }
            }
        }

        $crate::__if_defmt! {
            impl $crate::__defmt::Format for $name {
                fn format(&self, f: $crate::__defmt::Formatter<'_>) {
                    $crate::__defmt::write!(f, "{=str}", self.as_str());
                }
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::model::Value for $name {
            fn placeholder() -> Self {
                $name::Other($crate::heapless::String::new())
            }
            fn read(
                r: &mut $crate::json::Reader<'_>,
                field: &'static str,
            ) -> ::core::result::Result<Self, $crate::ParseError> {
                r.read_str::<$cap>(field).map($name::from_text)
            }
            fn write(&self, w: &mut $crate::json::Writer<'_>) {
                w.string(self.as_str());
            }
            /// A request may only carry a documented value.
            fn check(
                &self,
                _: &$crate::model::Rule,
                field: &'static str,
            ) -> ::core::result::Result<(), $crate::Error> {
                match self {
                    $name::Other(_) => Err($crate::Error::Invalid {
                        field,
                        problem: $crate::Problem::NotInSet {
                            allowed: concat!($($text, " "),*),
                        },
                    }),
                    _ => Ok(()),
                }
            }
            $crate::__if_serde! {
            fn serialize_value<S: $crate::__serde::Serializer>(
                &self,
                s: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::{format, vec};

    crate::text_enum! {
        /// A test enum.
        pub enum Colour(8) { Red = "RED", Blue = "BLUE" }
    }

    crate::record! {
        /// A nested item.
        pub struct Item {
            name: String<60> where Rule::chars(1, 20),
            amount: i64 where Rule::range(0, 1_000_000),
            count: Option<u32> where Rule::range(1, 100),
        }
    }

    crate::record! {
        /// A test record with every kind of value.
        pub struct Sample {
            id: String<8> where Rule::Charset { min: 1, max: 8, allowed: is_code_byte, name: "[0-9A-Za-z_-|*]" },
            note: Option<String<90>> where Rule::chars(0, 30),
            kind as "type": Option<Colour>,
            flag: Option<bool>,
            big: Option<u64>,
            items: Vec<Item, 3> where Rule::items(1, 3),
        }
    }

    fn item(name: &str, amount: i64) -> Item {
        Item {
            name: String::try_from(name).unwrap_or_default(),
            amount,
            count: None,
        }
    }

    #[test]
    fn parses_writes_and_round_trips() {
        let body = r#"{"id":"a|b*","note":"\u4e2d","type":"RED","flag":true,"big":18446744073709551615,
            "items":[{"name":"押金","amount":300,"count":2,"x":{"y":[1]}}],"unknown":null}"#;
        let s = Sample::from_json(body.as_bytes());
        assert!(s.is_ok(), "{s:?}");
        let s = s.unwrap_or_else(|_| unreachable!());
        assert_eq!(s.kind, Some(Colour::Red));
        assert_eq!(s.big, Some(u64::MAX));
        assert_eq!(s.items.len(), 1);
        let mut buf = [0u8; 256];
        let written = s.to_json(&mut buf).map(std::string::String::from);
        let want = r#"{"id":"a|b*","note":"中","type":"RED","flag":true,"big":18446744073709551615,"items":[{"name":"押金","amount":300,"count":2}]}"#;
        assert_eq!(written.as_deref(), Ok(want));
        assert_eq!(Sample::from_json(want.as_bytes()).as_ref(), Ok(&s));
        // Exact size when short.
        let mut small = [0u8; 10];
        assert_eq!(
            s.write_json(&mut small),
            Err(Error::BufferTooSmall { needed: want.len() })
        );
    }

    #[test]
    fn parse_errors_name_the_field() {
        #[rustfmt::skip]
        let cases: &[(&str, ParseError)] = &[
            (r#"{"items":[]}"#,                                       ParseError::MissingField { field: "id" }),
            (r#"{"id":"a","id":"b"}"#,                                ParseError::DuplicateField { field: "id" }),
            (r#"{"id":"a","type":null,"type":"RED"}"#,                ParseError::DuplicateField { field: "type" }),
            (r#"{"id":"123456789"}"#,                                 ParseError::FieldTooLong { field: "id", max: 8 }),
            (r#"{"id":"a","items":[{"name":"n","amount":1},{"name":"n","amount":1},{"name":"n","amount":1},{"name":"n","amount":1}]}"#, ParseError::TooMany { field: "items", max: 3 }),
            (r#"{"id":"a","items":[{"name":"n"}]}"#,                  ParseError::MissingField { field: "amount" }),
            (r#"{"id":"a","items":[{"name":"n","amount":1.5}]}"#,     ParseError::WrongType { field: "amount" }),
            (r#"{"id":"a","items":[{"name":"n","amount":1,"count":-1}]}"#, ParseError::WrongType { field: "count" }),
            (r#"{"id":"a","items":{}}"#,                              ParseError::WrongType { field: "items" }),
            (r#"{"id":"a","flag":"true"}"#,                           ParseError::WrongType { field: "flag" }),
            (r#"{"id":"a","big":-1}"#,                                ParseError::WrongType { field: "big" }),
            (r#"{"id":"a","items":[{"name":"n","amount":1,"name":"m"}]}"#, ParseError::DuplicateField { field: "name" }),
            (r#"["id"]"#,                                             ParseError::NotAnObject),
            (r#"{"id":"a"} x"#,                                       ParseError::Syntax { offset: 11 }),
        ];
        for (body, want) in cases {
            assert_eq!(Sample::from_json(body.as_bytes()), Err(*want), "{body}");
        }
        assert_eq!(
            Sample::from_json_strict(br#"{"id":"a","typo":1}"#),
            Err(ParseError::UnknownField { offset: 10 })
        );
        assert_eq!(
            Sample::from_json_strict(br#"{"id":"a","items":[{"name":"n","amount":1,"nmae":2}]}"#),
            Err(ParseError::UnknownField { offset: 42 })
        );
    }

    #[test]
    fn validation_names_the_field() {
        let ok = Sample {
            id: String::try_from("a").unwrap_or_default(),
            note: None,
            kind: None,
            flag: None,
            big: None,
            items: Vec::from_slice(&[item("n", 1)]).unwrap_or_default(),
        };
        assert_eq!(ok.validate(), Ok(()));
        let invalid = |field, problem| Err(Error::Invalid { field, problem });
        #[rustfmt::skip]
        let cases: std::vec::Vec<(Sample, Result<(), Error>)> = vec![
            (Sample { id: String::new(), ..ok.clone() },                       invalid("id", Problem::Empty)),
            (Sample { id: String::try_from("a b").unwrap_or_default(), ..ok.clone() }, invalid("id", Problem::Charset { allowed: "[0-9A-Za-z_-|*]" })),
            (Sample { note: String::try_from("a".repeat(31).as_str()).ok(), ..ok.clone() }, invalid("note", Problem::TooManyChars { max: 30 })),
            (Sample { note: String::try_from("字".repeat(30).as_str()).ok(), ..ok.clone() }, Ok(())),
            (Sample { kind: Some(Colour::Other(String::try_from("PINK").unwrap_or_default())), ..ok.clone() }, invalid("type", Problem::NotInSet { allowed: "RED BLUE " })),
            (Sample { items: Vec::new(), ..ok.clone() },                       invalid("items", Problem::TooFew { min: 1 })),
            (Sample { items: Vec::from_slice(&[item("", 1)]).unwrap_or_default(), ..ok.clone() }, invalid("name", Problem::Empty)),
            (Sample { items: Vec::from_slice(&[item("n", -1)]).unwrap_or_default(), ..ok.clone() }, invalid("amount", Problem::OutOfRange { min: 0, max: 1_000_000 })),
        ];
        for (i, (sample, want)) in cases.iter().enumerate() {
            assert_eq!(sample.validate(), *want, "case {i}");
            let mut buf = [0u8; 512];
            assert_eq!(sample.to_json(&mut buf).map(|_| ()), *want, "case {i}");
        }
    }

    /// Far more fields than the old 32-bit `Seen` could track: a repeat is still refused.
    #[test]
    fn duplicates_detected_past_32_fields() {
        crate::record! {
            /// Forty fields.
            pub struct Wide {
                f00: Option<u8>, f01: Option<u8>, f02: Option<u8>, f03: Option<u8>, f04: Option<u8>,
                f05: Option<u8>, f06: Option<u8>, f07: Option<u8>, f08: Option<u8>, f09: Option<u8>,
                f10: Option<u8>, f11: Option<u8>, f12: Option<u8>, f13: Option<u8>, f14: Option<u8>,
                f15: Option<u8>, f16: Option<u8>, f17: Option<u8>, f18: Option<u8>, f19: Option<u8>,
                f20: Option<u8>, f21: Option<u8>, f22: Option<u8>, f23: Option<u8>, f24: Option<u8>,
                f25: Option<u8>, f26: Option<u8>, f27: Option<u8>, f28: Option<u8>, f29: Option<u8>,
                f30: Option<u8>, f31: Option<u8>, f32: Option<u8>, f33: Option<u8>, f34: Option<u8>,
                f35: Option<u8>, f36: Option<u8>, f37: Option<u8>, f38: Option<u8>, f39: Option<u8>,
            }
        }
        for n in [0, 31, 32, 33, 39] {
            let body = format!(r#"{{"f{n:02}":1,"f{n:02}":2}}"#);
            let want = ParseError::DuplicateField {
                field: ["f00", "f31", "f32", "f33", "f39"]
                    .into_iter()
                    .find(|f| f.ends_with(&format!("{n:02}")))
                    .unwrap_or(""),
            };
            assert_eq!(Wide::from_json(body.as_bytes()), Err(want), "f{n}");
        }
    }

    /// With `serde`, a record serializes to the same JSON it renders (no allocation in the
    /// core; serde_json is the test's own).
    #[cfg(feature = "serde")]
    #[test]
    fn serde_matches_render() {
        let body = r#"{"id":"a|b*","type":"BLUE","big":7,"items":[{"name":"押金","amount":300,"count":2}]}"#;
        let s = Sample::from_json(body.as_bytes()).unwrap_or_else(|e| std::panic!("{e}"));
        let mut buf = [0u8; 256];
        let rendered = s.write_json(&mut buf).map(std::string::String::from);
        assert_eq!(serde_json::to_string(&s).ok(), rendered.ok());
    }
}
