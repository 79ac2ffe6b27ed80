//! A push decoder for `Transfer-Encoding: chunked`: bytes go in as they arrive, in pieces of
//! any size, and chunk data is copied into the caller's body buffer. A piece may end anywhere:
//! inside a size line, inside a CRLF, or inside a multi-byte UTF-8 character of the data.

/// Longest accepted chunk-size line, extensions included. Servers send a few hex digits.
pub(crate) const MAX_CHUNK_LINE: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Hex digits of the chunk size.
    Size,
    /// After the digits: whitespace or `;name=value` extensions, up to the line end.
    Extension,
    /// A CR ended the size line; LF must follow.
    SizeLf,
    /// Inside chunk data.
    Data,
    /// The CRLF after chunk data.
    DataCr,
    DataLf,
    /// At the start of a trailer line, or of the final empty line.
    TrailerStart,
    /// Inside a trailer field line (skipped; nothing signed lives there).
    Trailer,
    TrailerLf,
    /// A CR started the final empty line; LF must follow.
    EndLf,
    Done,
}

/// Why decoding stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChunkError {
    /// The chunk syntax is broken.
    Malformed,
    /// The next chunk does not fit in the body buffer (or its size overflows).
    BodyTooLarge,
    /// The trailer section is longer than its limit.
    TrailerTooLarge,
}

/// Decoder state. Start with [`Chunked::new`], [`feed`](Chunked::feed) until
/// [`is_done`](Chunked::is_done).
#[derive(Debug, Clone)]
pub(crate) struct Chunked {
    state: State,
    /// The size being read, then the bytes of the current chunk still to come.
    remaining: usize,
    /// At least one size digit was read on this line.
    digits: bool,
    /// Bytes of the current size line.
    line_len: usize,
    /// Bytes of the trailer section so far.
    trailer_len: usize,
}

impl Chunked {
    pub(crate) fn new() -> Self {
        Chunked {
            state: State::Size,
            remaining: 0,
            digits: false,
            line_len: 0,
            trailer_len: 0,
        }
    }

    /// The terminating empty line has been read.
    pub(crate) fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Decodes `input`, appending chunk data at `body[*len..]`. Returns how many bytes of
    /// `input` were used: all of them, unless the body ended earlier.
    pub(crate) fn feed(
        &mut self,
        input: &[u8],
        body: &mut [u8],
        len: &mut usize,
        trailer_limit: usize,
    ) -> Result<usize, ChunkError> {
        let mut used = 0;
        while self.state != State::Done {
            let rest = input.get(used..).unwrap_or_default();
            if self.state == State::Data {
                // The bulk path: copy as much chunk data as this piece holds.
                let take = rest.len().min(self.remaining);
                let end = len.checked_add(take).ok_or(ChunkError::BodyTooLarge)?;
                let dst = body.get_mut(*len..end).ok_or(ChunkError::BodyTooLarge)?;
                dst.copy_from_slice(rest.get(..take).unwrap_or_default());
                *len = end;
                self.remaining -= take;
                used += take;
                if self.remaining == 0 {
                    self.state = State::DataCr;
                }
                if take == rest.len() {
                    break;
                }
                continue;
            }
            let Some(&byte) = rest.first() else {
                break;
            };
            used += 1;
            self.step(byte, body.len().saturating_sub(*len), trailer_limit)?;
        }
        Ok(used)
    }

    /// One byte of framing. `room` is the free space left in the body buffer.
    fn step(&mut self, byte: u8, room: usize, trailer_limit: usize) -> Result<(), ChunkError> {
        use ChunkError::Malformed;
        match self.state {
            State::Size => match hex_value(byte) {
                Some(digit) => {
                    self.remaining = self
                        .remaining
                        .checked_mul(16)
                        .and_then(|v| v.checked_add(digit))
                        .ok_or(ChunkError::BodyTooLarge)?;
                    self.digits = true;
                    self.count_line_byte()?;
                }
                None if self.digits && matches!(byte, b';' | b' ' | b'\t' | b'\r' | b'\n') => {
                    self.state = State::Extension;
                    self.step(byte, room, trailer_limit)?;
                }
                None => return Err(Malformed),
            },
            State::Extension => match byte {
                b'\r' => self.state = State::SizeLf,
                b'\n' => self.end_size_line(room)?,
                b'\t' | b' '..=b'~' => self.count_line_byte()?,
                _ => return Err(Malformed),
            },
            State::SizeLf => match byte {
                b'\n' => self.end_size_line(room)?,
                _ => return Err(Malformed),
            },
            State::DataCr => match byte {
                b'\r' => self.state = State::DataLf,
                b'\n' => self.start_size_line(),
                _ => return Err(Malformed),
            },
            State::DataLf => match byte {
                b'\n' => self.start_size_line(),
                _ => return Err(Malformed),
            },
            State::TrailerStart => match byte {
                b'\r' => self.state = State::EndLf,
                b'\n' => self.state = State::Done,
                _ => {
                    self.state = State::Trailer;
                    self.step(byte, room, trailer_limit)?;
                }
            },
            State::Trailer => {
                self.trailer_len += 1;
                if self.trailer_len > trailer_limit {
                    return Err(ChunkError::TrailerTooLarge);
                }
                match byte {
                    b'\r' => self.state = State::TrailerLf,
                    b'\n' => self.state = State::TrailerStart,
                    b'\t' | b' '..=b'~' | 0x80..=0xFF => {}
                    _ => return Err(Malformed),
                }
            }
            State::TrailerLf => match byte {
                b'\n' => self.state = State::TrailerStart,
                _ => return Err(Malformed),
            },
            State::EndLf => match byte {
                b'\n' => self.state = State::Done,
                _ => return Err(Malformed),
            },
            // `feed` handles data in bulk and stops at the end.
            State::Data | State::Done => return Err(Malformed),
        }
        Ok(())
    }

    fn count_line_byte(&mut self) -> Result<(), ChunkError> {
        self.line_len += 1;
        if self.line_len > MAX_CHUNK_LINE {
            Err(ChunkError::Malformed)
        } else {
            Ok(())
        }
    }

    fn start_size_line(&mut self) {
        self.state = State::Size;
        self.remaining = 0;
        self.digits = false;
        self.line_len = 0;
    }

    fn end_size_line(&mut self, room: usize) -> Result<(), ChunkError> {
        if self.remaining == 0 {
            self.state = State::TrailerStart;
        } else if self.remaining > room {
            return Err(ChunkError::BodyTooLarge);
        } else {
            self.state = State::Data;
        }
        Ok(())
    }
}

fn hex_value(byte: u8) -> Option<usize> {
    char::from(byte)
        .to_digit(16)
        .and_then(|d| usize::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::prelude::rust_2024::*;

    /// Decodes `input` fed `step` bytes at a time into a `cap`-byte body.
    fn decode(input: &[u8], step: usize, cap: usize) -> Result<(Vec<u8>, usize), ChunkError> {
        let mut d = Chunked::new();
        let mut body = vec![0u8; cap];
        let mut len = 0;
        let mut used = 0;
        for piece in input.chunks(step) {
            used += d.feed(piece, &mut body, &mut len, 64)?;
            if d.is_done() {
                break;
            }
        }
        if !d.is_done() {
            return Err(ChunkError::Malformed);
        }
        body.truncate(len);
        Ok((body, used))
    }

    #[test]
    fn table() {
        type Want = Result<(&'static [u8], usize), ChunkError>;
        #[rustfmt::skip]
        let cases: &[(&[u8], usize, Want)] = &[
            (b"0\r\n\r\n",                                   8,  Ok((b"", 5))),
            (b"3\r\nabc\r\n0\r\n\r\n",                       8,  Ok((b"abc", 13))),
            (b"3\r\nabc\r\n0\r\n\r\nEXTRA",                  8,  Ok((b"abc", 13))),
            (b"1\r\n\xC3\r\n1\r\n\xA9\r\n0\r\n\r\n",         8,  Ok(("\u{e9}".as_bytes(), 17))),
            (b"A\r\n0123456789\r\n0\r\n\r\n",                16, Ok((b"0123456789", 20))),
            (b"a;name=value\r\n0123456789\r\n0\r\n\r\n",     16, Ok((b"0123456789", 31))),
            (b"3 \r\nabc\r\n0\r\n\r\n",                      8,  Ok((b"abc", 14))),
            (b"3\nabc\n0\n\n",                               8,  Ok((b"abc", 9))),
            (b"3\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n",       8,  Ok((b"abc", 27))),
            (b"0003\r\nabc\r\n0\r\n\r\n",                    8,  Ok((b"abc", 16))),
            (b"\r\n",                                        8,  Err(ChunkError::Malformed)),
            (b"g\r\n",                                       8,  Err(ChunkError::Malformed)),
            (b"3\r\nabcd\r\n0\r\n\r\n",                      8,  Err(ChunkError::Malformed)),
            (b"3\rXabc",                                     8,  Err(ChunkError::Malformed)),
            (b"3\r\nabc\r\n0\r\n\rX",                        8,  Err(ChunkError::Malformed)),
            (b"3\x00\r\nabc",                                8,  Err(ChunkError::Malformed)),
            (b"9\r\n123456789\r\n0\r\n\r\n",                 8,  Err(ChunkError::BodyTooLarge)),
            (b"ffffffffffffffffff\r\n",                      8,  Err(ChunkError::BodyTooLarge)),
            (b"3\r\nabc\r\n0\r\nX: 0123456789012345678901234567890123456789012345678901234567890123456789\r\n\r\n", 8, Err(ChunkError::TrailerTooLarge)),
            (b"3\r\nabc",                                    8,  Err(ChunkError::Malformed)),
        ];
        for (input, cap, want) in cases {
            for step in 1..=input.len() {
                let got = decode(input, step, *cap);
                let want = want.map(|(b, n)| (b.to_vec(), n));
                assert_eq!(
                    got,
                    want,
                    "{:?} step {step}",
                    String::from_utf8_lossy(input)
                );
            }
        }
    }

    #[test]
    fn size_line_is_bounded() {
        let mut line = vec![b'0'; MAX_CHUNK_LINE + 1];
        line.extend_from_slice(b"1\r\na\r\n0\r\n\r\n");
        assert_eq!(decode(&line, 7, 8), Err(ChunkError::Malformed));
        let mut ext = b"1;".to_vec();
        ext.extend(std::iter::repeat_n(b'x', MAX_CHUNK_LINE));
        ext.extend_from_slice(b"\r\na\r\n0\r\n\r\n");
        assert_eq!(decode(&ext, 7, 8), Err(ChunkError::Malformed));
    }
}
