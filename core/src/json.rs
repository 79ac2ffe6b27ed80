//! A small pull reader for the JSON objects WeChat Pay sends.
//!
//! Why not serde-json-core: it rejects surrogate-pair escapes (`\ud83d\ude00`, present in the
//! shared vectors), and it unescapes even ignored strings into its scratch buffer, so a long
//! unknown field fails the whole parse. This reader decodes every escape straight into the
//! destination's fixed capacity, skips unknown values without recursion (depth is a bit stack),
//! and names the field whenever a value does not fit. It never allocates and never panics.

use core::str;

use heapless::String;
use heapless::string::StringView;

use crate::error::{Error, ParseError};
use crate::writer::{CountingWriter, Decimal};

/// Deepest nesting accepted inside a skipped value.
pub const MAX_DEPTH: u32 = 64;

/// Longest key that can match a known field; longer keys are skipped as unknown.
const MAX_KEY_LEN: usize = 48;

/// A cursor over one JSON text.
#[derive(Debug)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    /// The longest prefix of `bytes` that is valid UTF-8 (all of it, for a valid text),
    /// checked once: strings are sliced from it, so each run of text is not validated again.
    /// A run that reaches past it is a syntax error at the run's start, exactly where
    /// validating the run alone would have failed.
    text: &'a str,
    pos: usize,
    /// Refuse unknown members instead of skipping them (request bodies a user typed).
    strict: bool,
    /// Offset of the key of the member being read.
    key_at: usize,
}

/// Where a decoded string goes.
trait Sink {
    /// Append `s`; `false` when it does not fit.
    fn push(&mut self, s: &str) -> bool;
}

// Sinks take strings of any capacity as one type (`StringView`), and `read_string` takes
// `&mut dyn Sink`: one copy of the string decoder and of each sink, not one per capacity.
impl Sink for &mut StringView {
    fn push(&mut self, s: &str) -> bool {
        self.push_str(s).is_ok()
    }
}

/// Keeps as many whole characters as fit, then notes that the rest was cut.
struct Truncating<'s> {
    out: &'s mut StringView,
    truncated: bool,
}

impl Sink for Truncating<'_> {
    fn push(&mut self, s: &str) -> bool {
        if !self.truncated && self.out.push_str(s).is_err() {
            // The longest prefix of whole characters that fits (0 is always a boundary).
            let mut cut = (self.out.capacity() - self.out.len()).min(s.len());
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            let _ = self.out.push_str(s.get(..cut).unwrap_or_default());
            self.truncated = true;
        }
        true
    }
}

/// Writes into a byte slice.
struct Bytes<'o> {
    out: &'o mut [u8],
    len: usize,
}

impl Sink for Bytes<'_> {
    /// Writes what fits and counts everything, so the total is known.
    fn push(&mut self, s: &str) -> bool {
        if let Some(dst) = self.out.get_mut(self.len..self.len + s.len()) {
            dst.copy_from_slice(s.as_bytes());
        }
        self.len += s.len();
        true
    }
}

/// Discards everything (used to validate skipped strings).
struct Discard;

impl Sink for Discard {
    fn push(&mut self, _: &str) -> bool {
        true
    }
}

impl<'a> Reader<'a> {
    /// A reader at the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        // The valid prefix: the whole text, or the bytes before the first invalid sequence.
        let text = str::from_utf8(bytes)
            .or_else(|e| str::from_utf8(bytes.get(..e.valid_up_to()).unwrap_or_default()))
            .unwrap_or_default();
        Reader {
            bytes,
            text,
            pos: 0,
            strict: false,
            key_at: 0,
        }
    }

    /// Reads one whole document whose top-level value is an object, with `read` (which must
    /// consume that object). Anything but white space after it is an error. With `strict`,
    /// [`Reader::skip_member`] refuses unknown members (`ParseError::UnknownField`).
    pub fn document<T>(
        bytes: &'a [u8],
        strict: bool,
        read: impl FnOnce(&mut Reader<'a>) -> Result<T, ParseError>,
    ) -> Result<T, ParseError> {
        let mut r = Reader::new(bytes);
        r.strict = strict;
        r.skip_ws();
        if r.peek() != Some(b'{') {
            return Err(if r.peek().is_none() || r.starts_value() {
                ParseError::NotAnObject
            } else {
                r.syntax()
            });
        }
        let value = read(&mut r)?;
        r.skip_ws();
        if r.pos == r.bytes.len() {
            Ok(value)
        } else {
            Err(r.syntax())
        }
    }

    /// Skips the value of a member no declaration knows: tolerated in answers (fields appear
    /// over time), refused in strict mode with the key's offset, so a typo is never dropped.
    pub fn skip_member(&mut self) -> Result<(), ParseError> {
        if self.strict {
            Err(ParseError::UnknownField {
                offset: self.key_at,
            })
        } else {
            self.skip_value()
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn syntax(&self) -> ParseError {
        ParseError::Syntax { offset: self.pos }
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), ParseError> {
        self.skip_ws();
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.syntax())
        }
    }

    /// Reads a top-level object, calling `on_field(key, reader)` for each member. The callback
    /// must consume the value, with a `read_*` method or [`Reader::skip_value`]. Anything but
    /// white space after the object is an error.
    pub fn object(
        bytes: &'a [u8],
        mut on_field: impl FnMut(&str, &mut Reader<'a>) -> Result<(), ParseError>,
    ) -> Result<(), ParseError> {
        let mut r = Reader::new(bytes);
        r.skip_ws();
        if r.peek() != Some(b'{') {
            return Err(if r.peek().is_none() || r.starts_value() {
                ParseError::NotAnObject
            } else {
                r.syntax()
            });
        }
        r.read_object_with(&mut on_field)?;
        r.skip_ws();
        if r.pos == r.bytes.len() {
            Ok(())
        } else {
            Err(r.syntax())
        }
    }

    /// Reads a nested object value the same way; another value is `WrongType { field }`.
    pub fn read_object(
        &mut self,
        field: &'static str,
        mut on_field: impl FnMut(&str, &mut Reader<'a>) -> Result<(), ParseError>,
    ) -> Result<(), ParseError> {
        match self.peek() {
            Some(b'{') => self.read_object_with(&mut on_field),
            _ if self.starts_value() => Err(ParseError::WrongType { field }),
            _ => Err(self.syntax()),
        }
    }

    /// The member loop, one copy for every caller (`dyn`: the callbacks differ, the loop not).
    fn read_object_with(
        &mut self,
        on_field: &mut dyn FnMut(&str, &mut Reader<'a>) -> Result<(), ParseError>,
    ) -> Result<(), ParseError> {
        self.expect(b'{')?;
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.skip_ws();
            self.key_at = self.pos;
            // A key without escapes is borrowed from the text; one with escapes is decoded.
            let mut decoded: String<MAX_KEY_LEN> = String::new();
            let key = match self.plain_key() {
                Some(key) => key,
                None if self.read_string(&mut decoded.as_mut_view())? => decoded.as_str(),
                None => "",
            };
            // An over-long key matches nothing; "" is never a known field either.
            let key = if key.len() <= MAX_KEY_LEN { key } else { "" };
            self.expect(b':')?;
            self.skip_ws();
            on_field(key, self)?;
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.syntax()),
            }
        }
    }

    /// The key at the cursor when it is a string without escapes (and consumes it); `None`
    /// leaves the cursor for [`Reader::read_string`], which decodes escapes and reports errors.
    fn plain_key(&mut self) -> Option<&'a str> {
        if self.peek() != Some(b'"') {
            return None;
        }
        let start = self.pos + 1;
        let end = start + plain_run(self.bytes.get(start..).unwrap_or_default());
        if self.bytes.get(end) != Some(&b'"') {
            return None;
        }
        let text: &'a str = self.text;
        let key = text.get(start..end)?;
        self.pos = end + 1;
        Some(key)
    }

    /// Reads a string value into raw bytes (e.g. base64 text headed for in-place decoding).
    /// Returns the decoded length; when it exceeds `out.len()`, `out` holds only a prefix and
    /// the length is exactly what a retry needs.
    pub fn read_str_bytes(
        &mut self,
        field: &'static str,
        out: &mut [u8],
    ) -> Result<usize, ParseError> {
        self.string_start(field)?;
        let mut sink = Bytes { out, len: 0 };
        self.read_string(&mut sink)?;
        Ok(sink.len)
    }

    fn starts_value(&self) -> bool {
        matches!(
            self.peek(),
            Some(b'{' | b'[' | b'"' | b't' | b'f' | b'n' | b'-' | b'0'..=b'9')
        )
    }

    /// True when the next value is `null` (and consumes it).
    pub fn take_null(&mut self) -> bool {
        if self.bytes.get(self.pos..self.pos + 4) == Some(b"null") {
            self.pos += 4;
            true
        } else {
            false
        }
    }

    /// Checks that a string value starts here; another value is `WrongType`.
    fn string_start(&self, field: &'static str) -> Result<(), ParseError> {
        match self.peek() {
            Some(b'"') => Ok(()),
            _ if self.starts_value() => Err(ParseError::WrongType { field }),
            _ => Err(self.syntax()),
        }
    }

    /// Reads a string value into a fixed-capacity string; too long is an error naming `field`.
    pub fn read_str<const N: usize>(
        &mut self,
        field: &'static str,
    ) -> Result<String<N>, ParseError> {
        self.string_start(field)?;
        let mut out = String::new();
        if self.read_string(&mut out.as_mut_view())? {
            Ok(out)
        } else {
            Err(ParseError::FieldTooLong { field, max: N })
        }
    }

    /// [`Reader::read_str`] into an existing string (cleared first), without a copy.
    pub fn read_str_into<const N: usize>(
        &mut self,
        out: &mut String<N>,
        field: &'static str,
    ) -> Result<(), ParseError> {
        self.string_start(field)?;
        out.clear();
        if self.read_string(&mut out.as_mut_view())? {
            Ok(())
        } else {
            Err(ParseError::FieldTooLong { field, max: N })
        }
    }

    /// Reads a string, keeping what fits: for display-only text such as error messages.
    /// Returns the text and whether it was cut.
    pub fn read_str_truncating<const N: usize>(
        &mut self,
        field: &'static str,
    ) -> Result<(String<N>, bool), ParseError> {
        self.string_start(field)?;
        let mut out = String::new();
        let mut sink = Truncating {
            out: out.as_mut_view(),
            truncated: false,
        };
        self.read_string(&mut sink)?;
        let truncated = sink.truncated;
        Ok((out, truncated))
    }

    /// Reads an optional string: `null` gives `None`.
    pub fn read_opt_str<const N: usize>(
        &mut self,
        field: &'static str,
    ) -> Result<Option<String<N>>, ParseError> {
        if self.take_null() {
            Ok(None)
        } else {
            self.read_str(field).map(Some)
        }
    }

    /// Reads an integer that fits an `i64`; a fraction, an exponent or overflow is `WrongType`.
    pub fn read_i64(&mut self, field: &'static str) -> Result<i64, ParseError> {
        let start = self.pos;
        self.skip_number().map_err(|e| {
            if self.starts_value() {
                ParseError::WrongType { field }
            } else {
                e
            }
        })?;
        let text = self
            .bytes
            .get(start..self.pos)
            .and_then(|t| str::from_utf8(t).ok())
            .ok_or(ParseError::WrongType { field })?;
        text.parse::<i64>()
            .map_err(|_| ParseError::WrongType { field })
    }

    /// Reads an optional integer: `null` gives `None`.
    pub fn read_opt_i64(&mut self, field: &'static str) -> Result<Option<i64>, ParseError> {
        if self.take_null() {
            Ok(None)
        } else {
            self.read_i64(field).map(Some)
        }
    }

    /// Reads an unsigned integer that fits a `u64`; anything else is `WrongType`.
    pub fn read_u64(&mut self, field: &'static str) -> Result<u64, ParseError> {
        let start = self.pos;
        self.skip_number().map_err(|e| {
            if self.starts_value() {
                ParseError::WrongType { field }
            } else {
                e
            }
        })?;
        self.bytes
            .get(start..self.pos)
            .and_then(|t| str::from_utf8(t).ok())
            .and_then(|t| t.parse::<u64>().ok())
            .ok_or(ParseError::WrongType { field })
    }

    /// Reads `true` or `false`.
    pub fn read_bool(&mut self, field: &'static str) -> Result<bool, ParseError> {
        if self.literal(b"true").is_ok() {
            Ok(true)
        } else if self.literal(b"false").is_ok() {
            Ok(false)
        } else if self.starts_value() {
            Err(ParseError::WrongType { field })
        } else {
            Err(self.syntax())
        }
    }

    /// Reads an array value, calling `on_item` for each element (which must consume it);
    /// another value is `WrongType { field }`.
    pub fn read_array(
        &mut self,
        field: &'static str,
        mut on_item: impl FnMut(&mut Reader<'a>) -> Result<(), ParseError>,
    ) -> Result<(), ParseError> {
        self.read_array_with(field, &mut on_item)
    }

    /// The item loop, one copy for every caller (as [`Reader::read_object_with`]).
    fn read_array_with(
        &mut self,
        field: &'static str,
        on_item: &mut dyn FnMut(&mut Reader<'a>) -> Result<(), ParseError>,
    ) -> Result<(), ParseError> {
        match self.peek() {
            Some(b'[') => self.pos += 1,
            _ if self.starts_value() => return Err(ParseError::WrongType { field }),
            _ => return Err(self.syntax()),
        }
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.skip_ws();
            on_item(self)?;
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.syntax()),
            }
        }
    }

    /// Skips one value of any type, validating it, without recursion.
    pub fn skip_value(&mut self) -> Result<(), ParseError> {
        // Bit i of `stack` is 1 when nesting level i is an object, 0 for an array.
        let mut stack: u64 = 0;
        let mut depth: u32 = 0;
        'value: loop {
            self.skip_ws();
            match self.peek() {
                Some(open @ (b'{' | b'[')) => {
                    if depth >= MAX_DEPTH {
                        return Err(ParseError::TooDeep { offset: self.pos });
                    }
                    self.pos += 1;
                    self.skip_ws();
                    let close = if open == b'{' { b'}' } else { b']' };
                    if self.peek() == Some(close) {
                        self.pos += 1;
                    } else {
                        stack = (stack << 1) | u64::from(open == b'{');
                        depth += 1;
                        if open == b'{' {
                            self.skip_key()?;
                        }
                        continue 'value;
                    }
                }
                Some(b'"') => {
                    self.read_string(&mut Discard)?;
                }
                Some(b't') => self.literal(b"true")?,
                Some(b'f') => self.literal(b"false")?,
                Some(b'n') => self.literal(b"null")?,
                _ => self.skip_number()?,
            }
            // After a complete value: close containers or move to the next element.
            loop {
                if depth == 0 {
                    return Ok(());
                }
                let in_object = stack & 1 == 1;
                self.skip_ws();
                match self.peek() {
                    Some(b',') => {
                        self.pos += 1;
                        if in_object {
                            self.skip_key()?;
                        }
                        continue 'value;
                    }
                    Some(b'}') if in_object => {}
                    Some(b']') if !in_object => {}
                    _ => return Err(self.syntax()),
                }
                self.pos += 1;
                stack >>= 1;
                depth -= 1;
            }
        }
    }

    fn skip_key(&mut self) -> Result<(), ParseError> {
        self.skip_ws();
        if self.peek() != Some(b'"') {
            return Err(self.syntax());
        }
        self.read_string(&mut Discard)?;
        self.expect(b':')
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), ParseError> {
        if self.bytes.get(self.pos..self.pos + word.len()) == Some(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.syntax())
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    /// JSON number grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn skip_number(&mut self) -> Result<(), ParseError> {
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.syntax()),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.syntax());
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.syntax());
            }
        }
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let mut value = 0u32;
        for _ in 0..4 {
            let digit = self
                .peek()
                .and_then(|b| char::from(b).to_digit(16))
                .ok_or_else(|| self.syntax())?;
            value = (value << 4) | digit;
            self.pos += 1;
        }
        Ok(value)
    }

    /// Reads a string starting at `"`, decoding escapes into `sink`. Returns `false` when the
    /// sink ran out of room (the string is still consumed and validated).
    fn read_string(&mut self, sink: &mut dyn Sink) -> Result<bool, ParseError> {
        if self.peek() != Some(b'"') {
            return Err(self.syntax());
        }
        self.pos += 1;
        let mut fits = true;
        loop {
            let run_start = self.pos;
            // One pass over the plain run up to the next quote, backslash or control byte.
            self.pos += plain_run(self.bytes.get(run_start..).unwrap_or_default());
            let run = self
                .text
                .get(run_start..self.pos)
                .ok_or(ParseError::Syntax { offset: run_start })?;
            if fits && !run.is_empty() {
                fits = sink.push(run);
            }
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(fits);
                }
                Some(b'\\') => {
                    let escape_at = self.pos;
                    self.pos += 1;
                    let ch = self
                        .escape()
                        .map_err(|_| ParseError::Syntax { offset: escape_at })?;
                    if fits {
                        let mut utf8 = [0u8; 4];
                        fits = sink.push(ch.encode_utf8(&mut utf8));
                    }
                }
                _ => return Err(self.syntax()),
            }
        }
    }

    /// Decodes one escape after the backslash, including UTF-16 surrogate pairs.
    fn escape(&mut self) -> Result<char, ParseError> {
        let byte = self.peek().ok_or_else(|| self.syntax())?;
        self.pos += 1;
        let simple = match byte {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let high = self.hex4()?;
                let code = match high {
                    0xD800..=0xDBFF => {
                        self.literal(b"\\u")?;
                        let low = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return Err(self.syntax());
                        }
                        0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                    }
                    0xDC00..=0xDFFF => return Err(self.syntax()),
                    other => other,
                };
                return char::from_u32(code).ok_or_else(|| self.syntax());
            }
            _ => return Err(self.syntax()),
        };
        Ok(simple)
    }
}

/// Ends a plain run of string text: `"`, `\\` or a control byte.
fn is_stop(b: u8) -> bool {
    b == b'"' || b == b'\\' || b < 0x20
}

/// Length of the plain run at the start of `rest`: the bytes before the first [`is_stop`]
/// byte (all of `rest` if there is none). Eight bytes a step on 64-bit targets: in each
/// word, a byte equal to `"` or `\\`, or below 0x20, gets its high bit set by the usual
/// "has zero / has less" arithmetic.
/// A borrow can flag a byte after a true hit, never before one, so the lowest flagged byte is
/// exact. Bytes of 0x80 and above are never flagged.
#[cfg(target_pointer_width = "64")]
fn plain_run(rest: &[u8]) -> usize {
    const W: usize = core::mem::size_of::<usize>();
    const ONES: usize = usize::MAX / 0xFF;
    const HIGH: usize = ONES * 0x80;
    let mut words = rest.chunks_exact(W);
    let mut len = 0;
    for chunk in &mut words {
        let mut word = [0u8; W];
        word.copy_from_slice(chunk);
        let x = usize::from_le_bytes(word);
        let quote = x ^ (ONES * usize::from(b'"'));
        let backslash = x ^ (ONES * usize::from(b'\\'));
        let hits = ((quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (x.wrapping_sub(ONES * 0x20) & !x))
            & HIGH;
        if hits != 0 {
            // At most W - 1: the index of the flagged byte within the word.
            return len + (hits.trailing_zeros() / 8) as usize;
        }
        len += W;
    }
    let tail = words.remainder();
    len + tail.iter().position(|&b| is_stop(b)).unwrap_or(tail.len())
}

/// [`plain_run`] a byte a step: on 32-bit targets (firmware) the word loop measured 92 bytes
/// more flash for a parse that was already within its instruction budget.
#[cfg(not(target_pointer_width = "64"))]
fn plain_run(rest: &[u8]) -> usize {
    rest.iter().position(|&b| is_stop(b)).unwrap_or(rest.len())
}

/// Writes JSON into a caller buffer: objects, arrays, strings, integers and booleans, nested
/// to any depth. Declared models ([`crate::model`]) write request bodies and render records
/// with it.
///
/// Strings are escaped minimally (`"`, `\\` and control characters); other characters stay
/// literal UTF-8, as the API expects. Characters of 4 UTF-8 bytes are refused (APIv3 accepts
/// 1–3). When the buffer is too small, [`Writer::finish`] names the exact size needed.
#[derive(Debug)]
pub struct Writer<'b> {
    out: CountingWriter<'b>,
    /// No separator is due before the next value (start, after `{`, `[` or a key).
    fresh: bool,
    /// Request bodies refuse characters of 4 UTF-8 bytes; rendered answers keep them.
    request: bool,
    error: Option<Error>,
}

impl<'b> Writer<'b> {
    /// An empty writer over `buf` for a request body (characters outside the BMP refused).
    pub fn new(buf: &'b mut [u8]) -> Self {
        Writer {
            out: CountingWriter::new(buf),
            fresh: true,
            request: true,
            error: None,
        }
    }

    /// An empty writer over `buf` for rendering a received record: every character is kept.
    pub fn render(buf: &'b mut [u8]) -> Self {
        Writer {
            request: false,
            ..Writer::new(buf)
        }
    }

    fn separate(&mut self) {
        if !self.fresh {
            self.out.put(b",");
        }
        self.fresh = false;
    }

    /// Opens an object.
    pub fn begin_object(&mut self) {
        self.separate();
        self.out.put(b"{");
        self.fresh = true;
    }

    /// Closes an object.
    pub fn end_object(&mut self) {
        self.out.put(b"}");
        self.fresh = false;
    }

    /// Opens an array.
    pub fn begin_array(&mut self) {
        self.separate();
        self.out.put(b"[");
        self.fresh = true;
    }

    /// Closes an array.
    pub fn end_array(&mut self) {
        self.out.put(b"]");
        self.fresh = false;
    }

    /// Writes a member's key; its value follows.
    pub fn key(&mut self, key: &str) {
        self.separate();
        self.quoted(key);
        self.out.put(b":");
        self.fresh = true;
    }

    /// Writes a string value.
    pub fn string(&mut self, value: &str) {
        self.separate();
        self.quoted(value);
    }

    /// Writes an integer value.
    pub fn i64(&mut self, value: i64) {
        self.separate();
        if value < 0 {
            self.out.put(b"-");
        }
        self.out.put(Decimal::new(value.unsigned_abs()).as_bytes());
    }

    /// Writes an unsigned integer value.
    pub fn u64(&mut self, value: u64) {
        self.separate();
        self.out.put(Decimal::new(value).as_bytes());
    }

    /// Writes `true` or `false`.
    pub fn bool(&mut self, value: bool) {
        self.separate();
        self.out.put(if value { b"true" } else { b"false" });
    }

    /// The text written, or the first error (`BufferTooSmall { needed }` when short).
    pub fn finish(self) -> Result<&'b str, Error> {
        if let Some(e) = self.error {
            return Err(e);
        }
        self.out.finish_str()
    }

    fn quoted(&mut self, text: &str) {
        if self.request && text.chars().any(|c| c.len_utf8() > 3) {
            self.error.get_or_insert(Error::InvalidInput {
                what: "characters outside the Basic Multilingual Plane are not accepted",
            });
        }
        self.out.put(b"\"");
        let mut run_start = 0;
        for (i, byte) in text.bytes().enumerate() {
            let escape: Option<&[u8]> = match byte {
                b'"' => Some(b"\\\""),
                b'\\' => Some(b"\\\\"),
                0x00..=0x1F => None,
                _ => continue,
            };
            self.out
                .put(text.as_bytes().get(run_start..i).unwrap_or_default());
            match escape {
                Some(e) => self.out.put(e),
                None => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    let hex = |n: u8| HEX.get(usize::from(n)).copied().unwrap_or(b'0');
                    self.out
                        .put(&[b'\\', b'u', b'0', b'0', hex(byte >> 4), hex(byte & 0xF)]);
                }
            }
            run_start = i + 1;
        }
        self.out
            .put(text.as_bytes().get(run_start..).unwrap_or_default());
        self.out.put(b"\"");
    }
}

/// Writes a flat JSON object of string members into a caller buffer (a [`Writer`] opened on
/// an object). When the buffer is too small, [`ObjectWriter::finish`] names the exact size.
#[derive(Debug)]
pub struct ObjectWriter<'b> {
    w: Writer<'b>,
}

impl<'b> ObjectWriter<'b> {
    /// Starts `{`.
    pub fn new(buf: &'b mut [u8]) -> Self {
        let mut w = Writer::new(buf);
        w.begin_object();
        ObjectWriter { w }
    }

    /// Adds `"key":"value"`.
    pub fn string(mut self, key: &str, value: &str) -> Self {
        self.w.key(key);
        self.w.string(value);
        self
    }

    /// Adds the member only when `value` is `Some`.
    pub fn optional(self, key: &str, value: Option<&str>) -> Self {
        match value {
            Some(value) => self.string(key, value),
            None => self,
        }
    }

    /// Closes the object: the body exactly as it will be signed and sent.
    pub fn finish(mut self) -> Result<&'b str, Error> {
        self.w.end_object();
        self.w.finish()
    }
}

/// Reads a member into its slot; a second sighting is refused (the slot is `Some` once seen,
/// even for `null`), whatever the number of fields. For the few hand-written readers that
/// stream a value somewhere a declaration cannot (a ciphertext into a work buffer).
pub fn once<T>(
    slot: &mut Option<T>,
    field: &'static str,
    read: impl FnOnce() -> Result<T, ParseError>,
) -> Result<(), ParseError> {
    if slot.is_some() {
        return Err(ParseError::DuplicateField { field });
    }
    *slot = Some(read()?);
    Ok(())
}

/// Unwraps a required field or names it as missing.
pub fn required<T>(value: Option<T>, field: &'static str) -> Result<T, ParseError> {
    value.ok_or(ParseError::MissingField { field })
}

#[cfg(test)]
mod tests {
    use super::*;
    use heapless::String;
    use std::prelude::rust_2024::*;

    fn one_string(json: &str) -> Result<String<64>, ParseError> {
        one_string_bytes(json.as_bytes())
    }

    fn one_string_bytes(json: &[u8]) -> Result<String<64>, ParseError> {
        let mut out = None;
        Reader::object(json, |key, r| {
            if key == "s" {
                out = Some(r.read_str::<64>("s")?);
                Ok(())
            } else {
                r.skip_value()
            }
        })?;
        required(out, "s")
    }

    /// `read_str_truncating` keeps the longest prefix of whole characters that fits, whether
    /// the cut falls in a plain run or on an escaped character, and says whether it cut.
    #[test]
    fn truncating_keeps_whole_characters() {
        #[rustfmt::skip]
        let cases: &[(&str, &str, bool)] = &[
            (r#""abc""#,            "abc",  false),
            (r#""abcd""#,           "abcd", false),
            (r#""abcde""#,          "abcd", true),
            (r#""ab中""#,           "ab",   true),
            (r#""a中""#,            "a中",  false),
            (r#""a中b""#,           "a中",  true),
            (r#""ab\u4e2d""#,       "ab",   true),
            (r#""a\u4e2dbc""#,      "a中",  true),
            (r#""\u4e2d\u4e2d""#,   "中",   true),
            (r#""😀""#,             "😀",   false),
            (r#""x😀""#,            "x",    true),
        ];
        for (json, want, cut) in cases {
            let mut r = Reader::new(json.as_bytes());
            let got = r.read_str_truncating::<4>("s");
            assert_eq!(
                got.as_ref().map(|(s, c)| (s.as_str(), *c)),
                Ok((*want, *cut)),
                "{json}"
            );
        }
    }

    #[test]
    fn string_escapes() {
        let cases: &[(&str, &str)] = &[
            (r#"{"s":"plain"}"#, "plain"),
            (r#"{"s":"a\/b\\c\"d"}"#, "a/b\\c\"d"),
            (r#"{"s":"\u4e2d\u6587"}"#, "中文"),
            (r#"{"s":"\u6D4B\u8bd5"}"#, "测试"),
            (r#"{"s":"\ud83d\ude00"}"#, "😀"),
            (r#"{"s":"🙂 literal"}"#, "🙂 literal"),
            (r#"{"s":"\b\f\n\r\t"}"#, "\u{8}\u{c}\n\r\t"),
            (r#"{"\u0073":"escaped key"}"#, "escaped key"),
        ];
        for (json, want) in cases {
            assert_eq!(one_string(json).as_deref(), Ok(*want), "{json}");
        }
    }

    /// The key the member loop hands over: borrowed when plain, decoded when escaped, and ""
    /// past `MAX_KEY_LEN` bytes either way; a key cut by bad UTF-8 is a syntax error there.
    #[test]
    fn member_keys() {
        let long = "k".repeat(MAX_KEY_LEN);
        let longer = "k".repeat(MAX_KEY_LEN + 1);
        let escaped_longer = format!("\\u006b{}", "k".repeat(MAX_KEY_LEN));
        #[rustfmt::skip]
        let cases: &[(Vec<u8>, Result<&str, ParseError>)] = &[
            (br#"{"service_id":1}"#.to_vec(),                    Ok("service_id")),
            (br#"{"\u0073ervice_id":1}"#.to_vec(),              Ok("service_id")),
            (br#"{"a\"b":1}"#.to_vec(),                          Ok("a\"b")),
            (br#"{"":1}"#.to_vec(),                              Ok("")),
            (format!(r#"{{"{long}":1}}"#).into_bytes(),           Ok(long.as_str())),
            (format!(r#"{{"{longer}":1}}"#).into_bytes(),         Ok("")),
            (format!(r#"{{"{escaped_longer}":1}}"#).into_bytes(), Ok("")),
            (b"{\"a\xffb\":1}".to_vec(),                        Err(ParseError::Syntax { offset: 2 })),
            (br#"{"ab"#.to_vec(),                                Err(ParseError::Syntax { offset: 4 })),
        ];
        for (json, want) in cases {
            let mut seen = std::string::String::new();
            let got = Reader::object(json, |key, r| {
                seen = key.into();
                r.skip_value()
            });
            let text = std::string::String::from_utf8_lossy(json);
            assert_eq!(got.map(|()| seen.as_str()), *want, "{text}");
        }
    }

    #[test]
    fn malformed() {
        let cases: &[(&str, ParseError)] = &[
            (r#"{"s":"\ud83d"}"#, ParseError::Syntax { offset: 6 }),
            (r#"{"s":"\ude00"}"#, ParseError::Syntax { offset: 6 }),
            (r#"{"s":"\ud83d\u0041"}"#, ParseError::Syntax { offset: 6 }),
            (r#"{"s":"\x"}"#, ParseError::Syntax { offset: 6 }),
            ("{\"s\":\"a\nb\"}", ParseError::Syntax { offset: 7 }),
            (r#"{"s":"abc"#, ParseError::Syntax { offset: 9 }),
            (r#"{"s":"x",}"#, ParseError::Syntax { offset: 9 }),
            (r#"{"s":"x"} x"#, ParseError::Syntax { offset: 10 }),
            (r#"{"s":"x""t":1}"#, ParseError::Syntax { offset: 8 }),
            (r#"{"s":1}"#, ParseError::WrongType { field: "s" }),
            (r#"[1]"#, ParseError::NotAnObject),
            ("", ParseError::NotAnObject),
            (r#"{"t":01,"s":"x"}"#, ParseError::Syntax { offset: 6 }),
            (r#"{"t":[1,],"s":"x"}"#, ParseError::Syntax { offset: 8 }),
            (
                r#"{"t":{"a" 1},"s":"x"}"#,
                ParseError::Syntax { offset: 10 },
            ),
            (r#"{"t":[}],"s":"x"}"#, ParseError::Syntax { offset: 6 }),
            (r#"{"t":tru,"s":"x"}"#, ParseError::Syntax { offset: 5 }),
            (r#"{"t":1.e5,"s":"x"}"#, ParseError::Syntax { offset: 7 }),
        ];
        for (json, want) in cases {
            assert_eq!(one_string(json), Err(*want), "{json}");
        }
        let invalid_utf8 = b"{\"s\":\"\xff\"}";
        assert!(matches!(
            Reader::object(invalid_utf8, |_, r| r.skip_value()),
            Err(ParseError::Syntax { offset: 6 })
        ));
    }

    /// The word-at-a-time scan finds exactly the first stop byte: every byte value at every
    /// position of runs up to three words long, after ASCII or non-ASCII filler.
    #[test]
    fn plain_run_matches_the_bytewise_scan() {
        for filler in [b'a', 0xC3, 0xFF, 0x7F, 0x20, 0x80] {
            for len in 0..26 {
                for at in 0..len {
                    for b in 0..=255u8 {
                        let mut run = std::vec![filler; len];
                        run[at] = b;
                        let want = run.iter().position(|&c| is_stop(c)).unwrap_or(len);
                        assert_eq!(plain_run(&run), want, "{filler} {len} {at} {b}");
                    }
                }
            }
        }
    }

    /// Bytes that are not UTF-8: the text is validated once, and the error is where
    /// validating the run of text alone would put it (the run's start).
    #[test]
    fn invalid_utf8_anywhere() {
        #[rustfmt::skip]
        let cases: &[(&[u8], Result<&str, ParseError>)] = &[
            (b"{\"s\":\"ab\xffc\"}",          Err(ParseError::Syntax { offset: 6 })),
            (b"{\"s\":\"a\\n\xff\"}",         Err(ParseError::Syntax { offset: 9 })),
            (b"{\"s\":\"\xc3\"}",             Err(ParseError::Syntax { offset: 6 })),
            (b"{\"s\":\"\xc3\xa9\"}",          Ok("\u{e9}")),
            (b"{\"t\":\"\xff\",\"s\":\"x\"}",    Err(ParseError::Syntax { offset: 6 })),
            (b"{\"\xff\":1,\"s\":\"x\"}",       Err(ParseError::Syntax { offset: 2 })),
            (b"{\"s\":\"x\"}\xff",             Err(ParseError::Syntax { offset: 9 })),
            (b"{\"s\":\"x\",\"n\":1\xff}",       Err(ParseError::Syntax { offset: 14 })),
        ];
        for (json, want) in cases {
            let got = one_string_bytes(json);
            assert_eq!(got.as_deref(), want.as_deref(), "{json:?}");
        }
    }

    #[test]
    fn skips_nested_and_odd_values() {
        let json = r#" { "n": {"a":[1,-2.5e+3,{"b":null}],"c":"\ud83d\ude00"}, "t": true,
            "f": false, "z": null, "e": [], "o": {}, "s": "ok" } "#;
        assert_eq!(one_string(json).as_deref(), Ok("ok"));
    }

    #[test]
    fn depth_limit() {
        let mut deep = std::string::String::from(r#"{"t":"#);
        deep.push_str(&"[".repeat(MAX_DEPTH as usize));
        deep.push_str(&"]".repeat(MAX_DEPTH as usize));
        deep.push_str(r#","s":"x"}"#);
        assert_eq!(one_string(&deep).as_deref(), Ok("x"));
        let mut too_deep = std::string::String::from(r#"{"t":"#);
        too_deep.push_str(&"[".repeat(MAX_DEPTH as usize + 1));
        assert_eq!(
            one_string(&too_deep),
            Err(ParseError::TooDeep {
                offset: 5 + MAX_DEPTH as usize
            })
        );
    }

    #[test]
    fn capacity_is_exact_after_unescaping() {
        // 64 bytes fit, 65 do not; escapes count as their decoded UTF-8 length.
        let fits = format!(r#"{{"s":"{}"}}"#, "a".repeat(64));
        assert_eq!(one_string(&fits).map(|s| s.len()), Ok(64));
        let over = format!(r#"{{"s":"{}"}}"#, "a".repeat(65));
        assert_eq!(
            one_string(&over),
            Err(ParseError::FieldTooLong {
                field: "s",
                max: 64
            })
        );
        let escaped = format!(r#"{{"s":"{}"}}"#, r"\u4e2d".repeat(21)); // 63 bytes decoded
        assert_eq!(one_string(&escaped).map(|s| s.len()), Ok(63));
    }

    #[test]
    fn integers() {
        let read = |json: &str| {
            let mut out = None;
            Reader::object(json.as_bytes(), |_, r| {
                out = r.read_opt_i64("n")?;
                Ok(())
            })
            .map(|()| out)
        };
        assert_eq!(read(r#"{"n":42}"#), Ok(Some(42)));
        assert_eq!(read(r#"{"n":-7}"#), Ok(Some(-7)));
        assert_eq!(read(r#"{"n":null}"#), Ok(None));
        assert_eq!(
            read(r#"{"n":1.5}"#),
            Err(ParseError::WrongType { field: "n" })
        );
        assert_eq!(
            read(r#"{"n":"1"}"#),
            Err(ParseError::WrongType { field: "n" })
        );
        assert_eq!(
            read(r#"{"n":99999999999999999999}"#),
            Err(ParseError::WrongType { field: "n" })
        );
    }

    #[test]
    fn writer_escapes_and_round_trips() {
        let mut buf = [0u8; 256];
        let body = ObjectWriter::new(&mut buf)
            .string("a", "plain 中文")
            .string("b", "q\"b\\c\nd\u{1}")
            .optional("c", None)
            .optional("d", Some(""))
            .finish()
            .map(std::string::String::from);
        assert_eq!(
            body.as_deref(),
            Ok(r#"{"a":"plain 中文","b":"q\"b\\c\u000ad\u0001","d":""}"#)
        );
        let body = body.unwrap_or_default();
        let mut got = (None, None);
        let parsed = Reader::object(body.as_bytes(), |k, r| {
            match k {
                "a" => got.0 = Some(r.read_str::<64>("a")?),
                "b" => got.1 = Some(r.read_str::<64>("b")?),
                _ => r.skip_value()?,
            }
            Ok(())
        });
        assert_eq!(parsed, Ok(()));
        assert_eq!(got.0.as_deref(), Some("plain 中文"));
        assert_eq!(got.1.as_deref(), Some("q\"b\\c\nd\u{1}"));
    }

    #[test]
    fn writer_exact_size_and_refusals() {
        let full = r#"{"k":"v"}"#;
        for size in 0..=full.len() {
            let mut buf = vec![0u8; size];
            let got = ObjectWriter::new(&mut buf).string("k", "v").finish();
            if size == full.len() {
                assert_eq!(got, Ok(full));
            } else {
                assert_eq!(got, Err(Error::BufferTooSmall { needed: full.len() }));
            }
        }
        let mut buf = [0u8; 64];
        assert!(matches!(
            ObjectWriter::new(&mut buf).string("k", "🙂").finish(),
            Err(Error::InvalidInput { .. })
        ));
    }

    #[test]
    fn nested_objects_and_bytes() {
        let body = br#"{"resource":{"ciphertext":"ab\/cd","n":1},"x":2}"#;
        let mut out = [0u8; 8];
        let mut len = 0;
        let parsed = Reader::object(body, |k, r| match k {
            "resource" => r.read_object("resource", |k, r| match k {
                "ciphertext" => {
                    len = r.read_str_bytes("ciphertext", &mut out)?;
                    Ok(())
                }
                _ => r.skip_value(),
            }),
            _ => r.skip_value(),
        });
        assert_eq!(parsed, Ok(()));
        assert_eq!(&out[..len], b"ab/cd");
        let mut tiny = [0u8; 2];
        let mut needed = 0;
        let too_long = Reader::object(br#"{"c":"ab\u4e2d"}"#, |_, r| {
            needed = r.read_str_bytes("c", &mut tiny)?;
            Ok(())
        });
        assert_eq!((too_long, needed, &tiny), (Ok(()), 5, b"ab"));
        let wrong = Reader::object(br#"{"o":[1]}"#, |_, r| {
            r.read_object("o", |_, r| r.skip_value())
        });
        assert_eq!(wrong, Err(ParseError::WrongType { field: "o" }));
    }

    fn strings_in_array(json: &str) -> Result<Vec<std::string::String>, ParseError> {
        let mut out = Vec::new();
        Reader::object(json.as_bytes(), |key, r| match key {
            "a" => r.read_array("a", |r| {
                out.push(r.read_str::<8>("a")?.as_str().to_owned());
                Ok(())
            }),
            _ => r.skip_value(),
        })?;
        Ok(out)
    }

    #[test]
    fn arrays() {
        #[rustfmt::skip]
        let cases: &[(&str, Result<&[&str], ParseError>)] = &[
            (r#"{"a":[]}"#,              Ok(&[])),
            (r#"{"a":[ "x" , "y" ]}"#,   Ok(&["x", "y"])),
            (r#"{"b":1,"a":["x"]}"#,     Ok(&["x"])),
            (r#"{"a":{}}"#,              Err(ParseError::WrongType { field: "a" })),
            (r#"{"a":["x",]}"#,          Err(ParseError::Syntax { offset: 10 })),
            (r#"{"a":["x""#,             Err(ParseError::Syntax { offset: 9 })),
            (r#"{"a":[1]}"#,             Err(ParseError::WrongType { field: "a" })),
        ];
        for (json, want) in cases {
            let got = strings_in_array(json);
            let want = want.map(|w| w.iter().map(|s| s.to_string()).collect::<Vec<_>>());
            assert_eq!(got, want, "{json}");
        }
    }
}
