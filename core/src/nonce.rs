//! Request nonces: 32 characters `[A-Za-z0-9]` drawn from bytes a random source supplies.

use core::fmt;

use crate::error::Error;

/// Length of a nonce in characters.
pub const NONCE_LEN: usize = 32;

const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Bytes below this map onto the alphabet without bias (`248 = 4 * 62`).
const UNBIASED_LIMIT: u8 = 248;

/// Rounds of 64 random bytes tried before the source is declared broken.
const MAX_ROUNDS: usize = 8;

/// Cryptographically secure random bytes: the OS, a TRNG, a secure element.
pub trait RandomSource {
    /// Fills `dest` entirely, or fails.
    fn fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), Error>;
}

impl<R: RandomSource + ?Sized> RandomSource for &mut R {
    fn fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), Error> {
        (**self).fill_bytes(dest)
    }
}

/// A request nonce.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Nonce([u8; NONCE_LEN]);

impl Nonce {
    /// Draws a nonce by rejection sampling, so every character is uniform over the alphabet.
    pub fn generate(rng: &mut impl RandomSource) -> Result<Nonce, Error> {
        let mut out = [0u8; NONCE_LEN];
        let mut filled = 0;
        for _ in 0..MAX_ROUNDS {
            let mut pool = [0u8; 64];
            rng.fill_bytes(&mut pool)?;
            for byte in pool.into_iter().filter(|b| *b < UNBIASED_LIMIT) {
                let Some(slot) = out.get_mut(filled) else {
                    return Ok(Nonce(out));
                };
                *slot = ALPHABET
                    .get(usize::from(byte % 62))
                    .copied()
                    .ok_or(Error::Random)?;
                filled += 1;
            }
            if filled == NONCE_LEN {
                return Ok(Nonce(out));
            }
        }
        Err(Error::Random)
    }

    /// Accepts a given nonce (a test vector, a replayed request): 32 chars `[A-Za-z0-9]`.
    pub fn from_str_checked(text: &str) -> Result<Nonce, Error> {
        let bytes: [u8; NONCE_LEN] =
            text.as_bytes()
                .try_into()
                .map_err(|_| Error::InvalidInput {
                    what: "nonce must be 32 characters",
                })?;
        if bytes.iter().all(u8::is_ascii_alphanumeric) {
            Ok(Nonce(bytes))
        } else {
            Err(Error::InvalidInput {
                what: "nonce must be [A-Za-z0-9]",
            })
        }
    }

    /// The nonce text.
    pub fn as_str(&self) -> &str {
        // Only ASCII alphanumerics are ever stored.
        core::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Debug for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Nonce({})", self.as_str())
    }
}

impl fmt::Display for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::prelude::rust_2024::*;

    struct Counter(u8);
    impl RandomSource for Counter {
        fn fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), Error> {
            for b in dest {
                *b = self.0;
                self.0 = self.0.wrapping_add(1);
            }
            Ok(())
        }
    }

    struct Stuck(u8);
    impl RandomSource for Stuck {
        fn fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), Error> {
            dest.fill(self.0);
            Ok(())
        }
    }

    #[test]
    fn alphabet_and_length() {
        let nonce = Nonce::generate(&mut Counter(0)).map(|n| n.to_string());
        assert_eq!(nonce.as_deref(), Ok("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"));
        let skip_biased = Nonce::generate(&mut Counter(240)).map(|n| n.to_string());
        // 240..=247 map to 54..=61, 248..=255 are rejected, then 0.. continue.
        assert_eq!(
            skip_biased.as_deref(),
            Ok("23456789ABCDEFGHIJKLMNOPQRSTUVWX")
        );
    }

    #[test]
    fn broken_source_is_an_error() {
        assert_eq!(Nonce::generate(&mut Stuck(0xFF)), Err(Error::Random));
        assert!(Nonce::generate(&mut Stuck(0x00)).is_ok());
    }

    #[test]
    fn checked() {
        assert!(Nonce::from_str_checked("593BEC0C930BF1AFEB40B4A08C8FB242").is_ok());
        assert!(Nonce::from_str_checked("593BEC0C930BF1AFEB40B4A08C8FB24").is_err());
        assert!(Nonce::from_str_checked("593BEC0C930BF1AFEB40B4A08C8FB24-").is_err());
    }
}
