//! Reading one response: the head into the scratch buffer (parsed by `httparse`), then the
//! body into the caller's buffer, framed by length, by chunks or by the peer closing.

use embedded_io::Read;
use wxpay_core::transport::{ResponseHead, ResponseHeaders};

use crate::chunked::{ChunkError, Chunked};
use crate::error::Error;
use crate::read_some;

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

/// Reads a whole response into `response` (headers captured in place: the struct is large,
/// and moving it around costs stack on small targets). Returns whether the connection may
/// carry another request.
pub(crate) fn read<S: Read, const H: usize>(
    stream: &mut S,
    scratch: &mut [u8],
    body: &mut [u8],
    response: &mut ResponseHead,
) -> Result<bool, Error<S::Error>> {
    let mut filled = 0;
    let mut interim = 0;
    let (head_len, head) = loop {
        response.headers = ResponseHeaders::default();
        let (head_len, head) = read_head::<S, H>(
            stream,
            scratch,
            &mut filled,
            interim == 0,
            &mut response.headers,
        )?;
        if !(100..200).contains(&head.status) {
            break (head_len, head);
        }
        // `100 Continue` and friends: drop the interim head, keep what followed it.
        interim += 1;
        if interim > MAX_INTERIM_RESPONSES || head_len > filled {
            return Err(Error::MalformedFraming);
        }
        scratch.copy_within(head_len..filled, 0);
        filled -= head_len;
    };
    let leftover = scratch.get(head_len..filled).unwrap_or_default();
    let mut body_len = 0;
    let clean_end = match head.framing {
        Framing::Empty => leftover.is_empty(),
        Framing::Length(length) => {
            let length = usize::try_from(length)
                .ok()
                .filter(|n| *n <= body.len())
                .ok_or(Error::BodyTooLarge {
                    needed: usize::try_from(length).ok(),
                })?;
            let early = leftover.len().min(length);
            let dst = body.get_mut(..length).unwrap_or_default();
            let (first, rest) = dst.split_at_mut(early);
            first.copy_from_slice(leftover.get(..early).unwrap_or_default());
            let stray = leftover.len() > length;
            read_exactly(stream, rest)?;
            body_len = length;
            !stray
        }
        Framing::Chunked => {
            let trailer_limit = scratch.len();
            let mut decoder = Chunked::new();
            let mut used = feed(&mut decoder, leftover, body, &mut body_len, trailer_limit)?;
            let mut stray = used < leftover.len();
            while !decoder.is_done() {
                let n = read_some(stream, scratch)?;
                if n == 0 {
                    return Err(Error::Truncated);
                }
                let piece = scratch.get(..n).unwrap_or_default();
                used = feed(&mut decoder, piece, body, &mut body_len, trailer_limit)?;
                stray = used < piece.len();
            }
            !stray
        }
        Framing::UntilClose => {
            let early = leftover.len();
            body.get_mut(..early)
                .ok_or(Error::BodyTooLarge { needed: None })?
                .copy_from_slice(leftover);
            body_len = early;
            loop {
                match body.get_mut(body_len..).filter(|free| !free.is_empty()) {
                    Some(free) => match read_some(stream, free)? {
                        0 => break,
                        n => body_len += n,
                    },
                    // Full: only the peer closing now makes this a body that fits.
                    None => match read_some(stream, scratch)? {
                        0 => break,
                        _ => return Err(Error::BodyTooLarge { needed: None }),
                    },
                }
            }
            false
        }
    };
    response.status = head.status;
    response.body_len = body_len;
    Ok(clean_end && head.persistent && head.framing != Framing::UntilClose)
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

/// Fills `buf` completely; the peer closing first is [`Error::Truncated`].
fn read_exactly<S: Read>(stream: &mut S, mut buf: &mut [u8]) -> Result<(), Error<S::Error>> {
    while !buf.is_empty() {
        let n = read_some(stream, buf)?;
        if n == 0 {
            return Err(Error::Truncated);
        }
        buf = buf.get_mut(n..).unwrap_or_default();
    }
    Ok(())
}

/// Reads until a complete head is in `scratch[..*filled]`; returns its length and contents.
/// Bytes after the head (the start of the body) stay in the buffer.
fn read_head<S: Read, const H: usize>(
    stream: &mut S,
    scratch: &mut [u8],
    filled: &mut usize,
    first: bool,
    headers: &mut ResponseHeaders,
) -> Result<(usize, Head), Error<S::Error>> {
    let mut scanned = 0;
    loop {
        let data = scratch.get(..*filled).unwrap_or_default();
        // httparse runs only once a blank line has arrived, so one-byte reads cost O(n).
        if has_blank_line(data, scanned)
            && let Some(parsed) = parse_head::<S::Error, H>(data, headers)?
        {
            return Ok(parsed);
        }
        scanned = *filled;
        let limit = scratch.len();
        let free = scratch
            .get_mut(*filled..)
            .filter(|free| !free.is_empty())
            .ok_or(Error::HeadTooLarge { limit })?;
        match read_some(stream, free)? {
            0 if *filled == 0 && first => return Err(Error::Closed),
            0 => return Err(Error::Truncated),
            n => *filled += n,
        }
    }
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
    while let Some(offset) = data
        .get(at..)
        .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
    {
        let i = at + offset;
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
