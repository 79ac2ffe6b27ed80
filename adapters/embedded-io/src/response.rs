//! Reading one response, sans-io: [`ResponseReader`] says where the next bytes should go (the
//! scratch buffer for the head and chunk framing, the caller's body buffer for a body framed by
//! length or by close) and takes them in, so the blocking and the async client drive one and
//! the same parser. The head is parsed by `httparse`; bodies are framed by length, by chunks or
//! by the peer closing.

use wxpay_core::transport::{ResponseHead, ResponseHeaders};

use crate::chunked::{ChunkError, Chunked};
use crate::error::Error;

/// Interim (1xx) responses skipped before the final one; more is [`Error::MalformedFraming`].
const MAX_INTERIM_RESPONSES: usize = 4;

/// How the body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// 1xx, 204 and 304 have no body, whatever the headers say.
    Empty,
    /// `Content-Length`.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Neither: the body runs until the peer closes.
    UntilClose,
}

/// What the head says besides the captured headers, copied out of the scratch buffer.
#[derive(Debug, Clone, Copy)]
struct Head {
    status: u16,
    framing: Framing,
    /// HTTP/1.1 without `Connection: close`.
    persistent: bool,
}

/// Where a [`ResponseReader`] stands.
#[derive(Debug, Clone)]
enum Phase {
    /// Reading the head into `scratch[..filled]`, after `interim` 1xx heads.
    Head { filled: usize, interim: usize },
    /// Reading `body[body_len..end]`.
    Length { end: usize, reusable: bool },
    /// Reading chunked framing into the scratch buffer, data into the body.
    Chunked { decoder: Chunked, persistent: bool },
    /// Reading into the body until the peer closes; once the body is full, one probe read into
    /// the scratch buffer tells a body that fits (the peer closes) from one that does not.
    UntilClose,
    /// The response is complete.
    Done { reusable: bool },
}

/// Where the next read of a [`ResponseReader`] goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Scratch,
    Body,
}

/// A sans-io reader of one HTTP/1.1 response, shared by the blocking [`HttpClient`] and the
/// async one in `wxpay-embedded-io-async`: it owns no buffer and does no I/O.
///
/// ```text
/// *head = ResponseHead::default();
/// let mut reader = ResponseReader::<H>::new();
/// loop {
///     let buf = reader.buffer(scratch, body)?;       // where the next read goes
///     let n = stream.read(buf)?;                     // (.await) 0 means the peer closed
///     if let Some(reusable) = reader.advance(n, scratch, body, head)? {
///         return Ok(reusable);                       // head and body are complete
///     }
/// }
/// ```
///
/// Pass the same `scratch`, `body` and `head` on every call. Until [`advance`](Self::advance)
/// returns `Some`, `head` and `body` hold nothing a caller may use: an error or a dropped
/// reader never leaves a partial response behind as a result. `H` bounds the header lines
/// ([`Error::TooManyHeaders`]).
///
/// [`HttpClient`]: crate::HttpClient
#[derive(Debug, Clone)]
pub struct ResponseReader<const H: usize = { crate::DEFAULT_MAX_HEADERS }> {
    phase: Phase,
    status: u16,
    body_len: usize,
}

impl<const H: usize> Default for ResponseReader<H> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const H: usize> ResponseReader<H> {
    /// A reader at the start of a response.
    pub fn new() -> Self {
        ResponseReader {
            phase: Phase::Head {
                filled: 0,
                interim: 0,
            },
            status: 0,
            body_len: 0,
        }
    }

    /// True once the response is complete.
    pub fn is_done(&self) -> bool {
        matches!(self.phase, Phase::Done { .. })
    }

    /// Where (and how much) the next read goes: part of `scratch` or of `body`, never empty
    /// while the response is incomplete. A head that fills `scratch` without ending is
    /// [`Error::HeadTooLarge`]. Empty once the response is complete.
    pub fn buffer<'x, E>(
        &self,
        scratch: &'x mut [u8],
        body: &'x mut [u8],
    ) -> Result<&'x mut [u8], Error<E>> {
        let (into, start, end) = self.window(scratch.len(), body.len())?;
        let buf = match into {
            Target::Scratch => scratch,
            Target::Body => body,
        };
        Ok(buf.get_mut(start..end).unwrap_or_default())
    }

    fn window<E>(
        &self,
        scratch_len: usize,
        body_len: usize,
    ) -> Result<(Target, usize, usize), Error<E>> {
        Ok(match &self.phase {
            Phase::Head { filled, .. } if *filled < scratch_len => {
                (Target::Scratch, *filled, scratch_len)
            }
            Phase::Head { .. } => return Err(Error::HeadTooLarge { limit: scratch_len }),
            Phase::Length { end, .. } => (Target::Body, self.body_len, *end),
            Phase::Chunked { .. } => (Target::Scratch, 0, scratch_len),
            Phase::UntilClose if self.body_len < body_len => {
                (Target::Body, self.body_len, body_len)
            }
            Phase::UntilClose => (Target::Scratch, 0, scratch_len),
            Phase::Done { .. } => (Target::Scratch, 0, 0),
        })
    }

    /// Takes in the `n` bytes a read put at the start of [`buffer`](Self::buffer); `n == 0`
    /// means the peer closed the connection. Returns `Some(reusable)` when the response is
    /// complete (status, captured headers and `body_len` are then in `head`, the body in
    /// `body[..head.body_len]`): `reusable` says whether the connection may carry another
    /// request. `n` larger than the buffer is [`Error::StreamMisbehaved`].
    pub fn advance<E>(
        &mut self,
        n: usize,
        scratch: &mut [u8],
        body: &mut [u8],
        head: &mut ResponseHead,
    ) -> Result<Option<bool>, Error<E>> {
        let (_, start, end) = self.window(scratch.len(), body.len())?;
        if n > end - start {
            return Err(Error::StreamMisbehaved);
        }
        match &mut self.phase {
            Phase::Head { filled, interim } => {
                if n == 0 {
                    return Err(if *filled == 0 && *interim == 0 {
                        Error::Closed
                    } else {
                        Error::Truncated
                    });
                }
                let from = *filled;
                *filled += n;
                return self.try_head(from, scratch, body, head);
            }
            Phase::Length { end, reusable } => {
                if n == 0 {
                    return Err(Error::Truncated);
                }
                self.body_len += n;
                if self.body_len == *end {
                    let reusable = *reusable;
                    return Ok(Some(self.finish(reusable, head)));
                }
            }
            Phase::Chunked {
                decoder,
                persistent,
            } => {
                if n == 0 {
                    return Err(Error::Truncated);
                }
                let piece = scratch.get(..n).unwrap_or_default();
                let used = feed(decoder, piece, body, &mut self.body_len, scratch.len())?;
                if decoder.is_done() {
                    let reusable = *persistent && used == n;
                    return Ok(Some(self.finish(reusable, head)));
                }
            }
            Phase::UntilClose => match (n, self.body_len < body.len()) {
                (0, _) => return Ok(Some(self.finish(false, head))),
                (_, true) => self.body_len += n,
                // Full: only the peer closing now makes this a body that fits.
                (_, false) => return Err(Error::BodyTooLarge { needed: None }),
            },
            Phase::Done { reusable } => return Ok(Some(*reusable)),
        }
        Ok(None)
    }

    fn finish(&mut self, reusable: bool, head: &mut ResponseHead) -> bool {
        self.phase = Phase::Done { reusable };
        head.status = self.status;
        head.body_len = self.body_len;
        reusable
    }

    /// Looks for a complete head in `scratch[..filled]` (no head end before `from`); skips
    /// interim responses, then starts the body with the bytes that followed the head.
    fn try_head<E>(
        &mut self,
        mut from: usize,
        scratch: &mut [u8],
        body: &mut [u8],
        response: &mut ResponseHead,
    ) -> Result<Option<bool>, Error<E>> {
        let Phase::Head { filled, interim } = &mut self.phase else {
            return Ok(None);
        };
        let (head_len, head) = loop {
            let data = scratch.get(..*filled).unwrap_or_default();
            // httparse runs only once a blank line has arrived, so one-byte reads cost O(n).
            if !has_blank_line(data, from) {
                return Ok(None);
            }
            let Some((head_len, head)) = parse_head::<E, H>(data, &mut response.headers)? else {
                return Ok(None);
            };
            if !(100..200).contains(&head.status) {
                break (head_len, head);
            }
            // `100 Continue` and friends: drop the interim head, keep what followed it.
            *interim += 1;
            if *interim > MAX_INTERIM_RESPONSES || head_len > *filled {
                return Err(Error::MalformedFraming);
            }
            scratch.copy_within(head_len..*filled, 0);
            *filled -= head_len;
            response.headers = ResponseHeaders::default();
            from = 0;
        };
        let leftover = scratch.get(head_len..*filled).unwrap_or_default();
        self.status = head.status;
        match head.framing {
            Framing::Empty => {
                let reusable = leftover.is_empty() && head.persistent;
                return Ok(Some(self.finish(reusable, response)));
            }
            Framing::Length(length) => {
                let length = usize::try_from(length)
                    .ok()
                    .filter(|n| *n <= body.len())
                    .ok_or(Error::BodyTooLarge {
                        needed: usize::try_from(length).ok(),
                    })?;
                let early = leftover.len().min(length);
                body.get_mut(..early)
                    .unwrap_or_default()
                    .copy_from_slice(leftover.get(..early).unwrap_or_default());
                self.body_len = early;
                let reusable = leftover.len() <= length && head.persistent;
                if early == length {
                    return Ok(Some(self.finish(reusable, response)));
                }
                self.phase = Phase::Length {
                    end: length,
                    reusable,
                };
            }
            Framing::Chunked => {
                let mut decoder = Chunked::new();
                let mut body_len = 0;
                let used = feed(&mut decoder, leftover, body, &mut body_len, scratch.len())?;
                let reusable = head.persistent && used == leftover.len();
                self.body_len = body_len;
                if decoder.is_done() {
                    return Ok(Some(self.finish(reusable, response)));
                }
                self.phase = Phase::Chunked {
                    decoder,
                    persistent: head.persistent,
                };
            }
            Framing::UntilClose => {
                let early = leftover.len();
                body.get_mut(..early)
                    .ok_or(Error::BodyTooLarge { needed: None })?
                    .copy_from_slice(leftover);
                self.body_len = early;
                self.phase = Phase::UntilClose;
            }
        }
        Ok(None)
    }
}

fn feed<E>(
    decoder: &mut Chunked,
    input: &[u8],
    body: &mut [u8],
    body_len: &mut usize,
    trailer_limit: usize,
) -> Result<usize, Error<E>> {
    decoder
        .feed(input, body, body_len, trailer_limit)
        .map_err(|e| match e {
            ChunkError::Malformed => Error::MalformedChunk,
            ChunkError::BodyTooLarge => Error::BodyTooLarge { needed: None },
            ChunkError::TrailerTooLarge => Error::HeadTooLarge {
                limit: trailer_limit,
            },
        })
}

/// True if `data` holds `\n\n` or `\n\r\n` ending at or after `from`, after the first byte
/// that is not a line end. Empty lines before the status line do not count: httparse skips
/// them and answers `Partial`, and as no later blank line would come, an error further on
/// (garbage instead of a status line) would go unseen with small reads while whole reads
/// report it: the outcome would depend on how the reads fall.
fn has_blank_line(data: &[u8], from: usize) -> bool {
    let Some(content) = data.iter().position(|b| !matches!(b, b'\r' | b'\n')) else {
        return false;
    };
    let mut at = from.max(content + 2);
    // Jump from line feed to line feed: a plain byte search is the cheap part on a small core.
    while let Some(i) = find_line_feed(data, at) {
        if matches!(
            (data.get(i - 1), data.get(i.wrapping_sub(2))),
            (Some(b'\n'), _) | (Some(b'\r'), Some(b'\n'))
        ) {
            return true;
        }
        at = i + 1;
    }
    false
}

/// The index of the first `\n` in `data[from..]`, four bytes at a time (a byte at a time cost
/// 7 instructions per byte of the head on a Cortex-M4, a word at a time about 2).
fn find_line_feed(data: &[u8], from: usize) -> Option<usize> {
    const ONES: u32 = 0x0101_0101;
    let rest = data.get(from..)?;
    let mut words = rest.chunks_exact(4);
    let mut at = from;
    for word in &mut words {
        let four = <[u8; 4]>::try_from(word).ok()?;
        // A zero byte in `x` is a line feed in `four` (exact as a yes/no).
        let x = u32::from_le_bytes(four) ^ (ONES * u32::from(b'\n'));
        if x.wrapping_sub(ONES) & !x & (ONES << 7) != 0 {
            return four.iter().position(|&b| b == b'\n').map(|i| at + i);
        }
        at += 4;
    }
    let tail = words.remainder();
    tail.iter().position(|&b| b == b'\n').map(|i| at + i)
}

/// Parses a head with `httparse`; `None` if it is not complete yet.
fn parse_head<E, const H: usize>(
    data: &[u8],
    headers: &mut ResponseHeaders,
) -> Result<Option<(usize, Head)>, Error<E>> {
    let mut table = [httparse::EMPTY_HEADER; H];
    let mut response = httparse::Response::new(&mut table);
    let head_len = match response.parse(data) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(Error::TooManyHeaders { limit: H }),
        Err(_) => return Err(Error::MalformedHead),
    };
    // httparse takes any three digits; below 100 is no HTTP status (RFC 9110, 15).
    let status = response
        .code
        .filter(|code| *code >= 100)
        .ok_or(Error::MalformedHead)?;
    let version = response.version.ok_or(Error::MalformedHead)?;
    let mut length: Option<u64> = None;
    let mut transfer_encoding = None;
    let mut close = false;
    for field in response.headers.iter() {
        headers.capture(field.name, field.value);
        let is = |name: &str| field.name.eq_ignore_ascii_case(name);
        if is("Content-Length") {
            let n = parse_length(field.value).ok_or(Error::MalformedFraming)?;
            // Repeats are allowed only when they agree (RFC 9110, 8.6).
            if length.is_some_and(|m| m != n) {
                return Err(Error::MalformedFraming);
            }
            length = Some(n);
        } else if is("Transfer-Encoding") {
            if transfer_encoding.is_some() {
                return Err(Error::MalformedFraming);
            }
            transfer_encoding = Some(trim(field.value));
        } else if is("Connection") {
            close |= field
                .value
                .split(|b| *b == b',')
                .any(|token| trim(token).eq_ignore_ascii_case(b"close"));
        }
    }
    let framing = if (100..200).contains(&status) || status == 204 || status == 304 {
        Framing::Empty
    } else {
        match (transfer_encoding, length) {
            // Both at once is how responses get split and requests smuggled: refuse.
            (Some(_), Some(_)) => return Err(Error::MalformedFraming),
            (Some(coding), None) if coding.eq_ignore_ascii_case(b"chunked") => Framing::Chunked,
            (Some(_), None) => return Err(Error::MalformedFraming),
            (None, Some(n)) => Framing::Length(n),
            (None, None) => Framing::UntilClose,
        }
    };
    Ok(Some((
        head_len,
        Head {
            status,
            framing,
            persistent: version == 1 && !close,
        },
    )))
}

/// A `Content-Length` value: decimal digits only, no sign, no list.
fn parse_length(value: &[u8]) -> Option<u64> {
    let digits = trim(value);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, d| {
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

fn trim(bytes: &[u8]) -> &[u8] {
    bytes.trim_ascii()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_line_finder() {
        #[rustfmt::skip]
        let cases: &[(&[u8], usize, bool)] = &[
            (b"HTTP/1.1 200 OK\r\n\r\n", 0,  true),
            (b"HTTP/1.1 200 OK\r\n\r\n", 17, true),
            (b"HTTP/1.1 200 OK\r\n\r\n", 19, false),
            (b"HTTP/1.1 200 OK\n\n",     0,  true),
            (b"HTTP/1.1 200 OK\r\n",     0,  false),
            (b"\n",                      0,  false),
            (b"\r\n",                    0,  false),
            // Found by the http_response fuzz target: leading empty lines are no head end.
            (b"\n\n\n{}",                 0,  false),
            (b"\r\n\r\n",                0,  false),
            (b"\r\n\r\nX\n\n",           0,  true),
            (b"\nX\r\n\r\n",             3,  true),
            (b"\nX\n",                   0,  false),
        ];
        for (data, from, want) in cases {
            assert_eq!(has_blank_line(data, *from), *want, "{data:?} from {from}");
        }
    }

    /// The word-at-a-time search finds what a byte search finds, from every start.
    #[test]
    fn line_feed_search() {
        let texts: &[&[u8]] = &[
            b"",
            b"\n",
            b"abc",
            b"abcd\n",
            b"\x0b\x09\x8a\x0a",
            b"HTTP/1.1 200 OK\r\nA: b\r\n\r\n",
            b"\x0a\x0a\x0a\x0a\x0a",
            b"\xff\xfe\x0b\x09\x0b\x09\x0b\x09x\n",
            b"\x8a\x8a\x8a\x8a\x8a\x8a\x8a",
        ];
        for text in texts {
            for from in 0..=text.len() + 1 {
                let naive = text
                    .get(from..)
                    .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
                    .map(|i| from + i);
                assert_eq!(find_line_feed(text, from), naive, "{text:?} from {from}");
            }
        }
        for b in 0..=255u8 {
            for at in 0..6 {
                let mut text = [b'x'; 6];
                text[at] = b;
                let want = (b == b'\n').then_some(at);
                assert_eq!(find_line_feed(&text, 0), want, "{text:?}");
            }
        }
    }

    #[test]
    fn lengths() {
        #[rustfmt::skip]
        let cases: &[(&[u8], Option<u64>)] = &[
            (b"0", Some(0)), (b" 42 ", Some(42)), (b"18446744073709551615", Some(u64::MAX)),
            (b"18446744073709551616", None), (b"", None), (b"-1", None), (b"+1", None),
            (b"1,1", None), (b"0x10", None), (b"1 2", None),
        ];
        for (value, want) in cases {
            assert_eq!(parse_length(value), *want, "{value:?}");
        }
    }
}
