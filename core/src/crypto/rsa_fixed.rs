//! RSA-2048 [`Signer`] and [`Verifier`] on fixed-size integers: no allocator.
//!
//! The integers are crypto-bigint's fixed-size [`U2048`]/[`U1024`] with its Montgomery
//! parameters; the exponentiations multiply with a CIOS kernel of our own (`montgomery.rs`,
//! checked against crypto-bigint's multiplier), which takes about half the instructions on a
//! Cortex-M4. Nothing here is heap-allocated, so this provider builds for targets without
//! `alloc` (`thumbv6m-none-eabi`, `riscv32imc-unknown-none-elf`).
//!
//! - [`FixedRsaVerifier`]: PKCS#1 v1.5 over a SHA-256 digest. Public data only, so the
//!   exponentiation is variable-time in the public exponent (17 Montgomery multiplications
//!   for e = 65537). The signature must be exactly 256 bytes and below the modulus, and the
//!   decoded block must equal the expected padding byte for byte.
//! - [`FixedRsaSigner`]: CRT with constant-time exponentiation (fixed 4-bit windows over the
//!   whole 1024-bit exponents) and constant-time reductions. [`FixedRsaSigner::with_blinding`]
//!   blinds every operation with a fresh random factor. Every signature is checked against the
//!   public key before it is released: a fault during CRT would otherwise leak a factor of
//!   the modulus.
//!
//! Keys load from DER (PKCS#8 or PKCS#1 private keys, SPKI or PKCS#1 public keys) through
//! the `der`/`pkcs1`/`pkcs8` crates' borrowed reference types (no allocation), or from raw
//! big-endian components ([`FixedRsaVerifier::from_modulus`], [`FixedRsaSigner::from_components`])
//! so that firmware with a provisioned key links no DER parser.

use core::borrow::Borrow;
use core::fmt;

use crypto_bigint::modular::{FixedMontyForm, FixedMontyParams};
use crypto_bigint::{
    MontyForm, MontyMultiplier, NonZero, Odd, U64, U256, U1024, U2048, Uint, Word,
};
use heapless::String;
use zeroize::Zeroize;

use super::montgomery::{Modulus, Montgomery};
use crate::nonce::RandomSource;
use crate::sign::{SERIAL_CAPACITY, SIGNATURE_LEN, Sha256Digest, Signer};
use crate::verify::Verifier;

pub use super::KeyError;

/// Modulus size in bytes (RSA-2048).
pub const MODULUS_LEN: usize = SIGNATURE_LEN;

const L2048: usize = U2048::LIMBS;
const L1024: usize = U1024::LIMBS;

/// DER `DigestInfo` prefix for SHA-256 (RFC 8017 §9.2, note 1).
const SHA256_DIGEST_INFO: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// Why a signature did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureError {
    /// Not exactly 256 bytes.
    WrongLength,
    /// The signature, read as an integer, is not below the modulus.
    NotBelowModulus,
    /// The decoded block is not the PKCS#1 v1.5 SHA-256 encoding of the digest.
    BadPadding,
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignatureError::WrongLength => "RSA signature is not 256 bytes",
            SignatureError::NotBelowModulus => "RSA signature is not below the modulus",
            SignatureError::BadPadding => "RSA signature does not match the digest",
        })
    }
}

impl core::error::Error for SignatureError {}

/// Why signing failed. No signature is released in either case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignError {
    /// The blinding random source failed.
    Random,
    /// The signature did not verify under the public key (a fault during the computation,
    /// or a blinding factor without an inverse); it was discarded.
    Fault,
}

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignError::Random => "random source failed during RSA blinding",
            SignError::Fault => "RSA signature failed its own check and was discarded",
        })
    }
}

impl core::error::Error for SignError {}

/// Reads a big-endian unsigned integer of at most `Uint::<L>::BYTES` bytes (leading zero
/// bytes allowed and ignored).
fn uint_be<const L: usize>(bytes: &[u8]) -> Option<crypto_bigint::Uint<L>> {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    let digits = bytes.get(start..)?;
    let width = crypto_bigint::Uint::<L>::BYTES;
    if digits.len() > width || width > MODULUS_LEN {
        return None;
    }
    let mut buf = [0u8; MODULUS_LEN];
    buf.get_mut(width - digits.len()..width)?
        .copy_from_slice(digits);
    let out = crypto_bigint::Uint::<L>::from_be_slice(buf.get(..width)?);
    buf.zeroize();
    Some(out)
}

/// Exactly `bits` bits wide (top bit set), as RSA-2048 moduli and their primes are.
fn has_bits<const L: usize>(x: &crypto_bigint::Uint<L>, bits: u32) -> bool {
    x.bit_width_vartime() == bits
}

/// The public exponent: odd, at least 3, at most 64 bits.
fn exponent(bytes: &[u8]) -> Result<U64, KeyError> {
    let e = uint_be::<{ U64::LIMBS }>(bytes).ok_or(KeyError::Unreadable)?;
    if !bool::from(e.is_odd()) || e < U64::from_u8(3) {
        return Err(KeyError::Unreadable);
    }
    Ok(e)
}

/// The 256-byte PKCS#1 v1.5 block `00 01 FF… 00 DigestInfo(SHA-256) digest`.
fn encode_pkcs1v15(digest: &Sha256Digest) -> [u8; MODULUS_LEN] {
    let padding = MODULUS_LEN - 3 - SHA256_DIGEST_INFO.len() - digest.len();
    let block = [0u8, 1]
        .iter()
        .chain(core::iter::repeat_n(&0xff, padding))
        .chain(&[0u8])
        .chain(&SHA256_DIGEST_INFO)
        .chain(digest);
    let mut em = [0u8; MODULUS_LEN];
    em.iter_mut().zip(block).for_each(|(d, s)| *d = *s);
    em
}

/// Fixed window width of the constant-time exponentiation: 16 table entries of 128 bytes.
const WINDOW: u32 = 4;

/// The multiplication kernel for a modulus in crypto-bigint's Montgomery parameters.
fn kernel<const L: usize>(params: &FixedMontyParams<L>) -> Montgomery<'_, L> {
    Montgomery {
        n: params.modulus().as_ref().as_words(),
        n0: params.mod_neg_inv().0,
    }
}

/// `base^e` for a public exponent: left-to-right square-and-multiply, variable time in `e`
/// only (17 Montgomery multiplications for e = 65537). Works in place on one accumulator.
/// `base` and the result are in Montgomery form.
fn pow_public<const L: usize>(mm: &Montgomery<'_, L>, base: &Uint<L>, e: &U64) -> Uint<L> {
    let mut acc = *base;
    for i in (0..e.bit_width_vartime().saturating_sub(1)).rev() {
        mm.square_assign(acc.as_mut_words());
        if e.bit_vartime(i) {
            mm.mul_assign(acc.as_mut_words(), base.as_words());
        }
    }
    acc
}

/// `base^exp` in constant time: fixed 4-bit windows over every bit of `exp`, each table
/// entry read on every step (masked), one squaring per bit and one multiplication per window.
fn pow_secret<const L: usize>(base: &FixedMontyForm<L>, exp: &Uint<L>) -> FixedMontyForm<L> {
    let params = base.params();
    let mm = kernel(params);
    let mut acc = *FixedMontyForm::one(params).as_montgomery();
    let mut table = [Uint::<L>::ZERO; 1 << WINDOW];
    for entry in table.iter_mut() {
        *entry = acc;
        mm.mul_assign(acc.as_mut_words(), base.as_montgomery().as_words());
    }
    acc = *FixedMontyForm::one(params).as_montgomery();
    let mut pick = acc;
    let per_limb = Word::BITS / WINDOW;
    for limb in exp.as_limbs().iter().rev() {
        for w in (0..per_limb).rev() {
            for _ in 0..WINDOW {
                mm.square_assign(acc.as_mut_words());
            }
            let digit = (limb.0 >> (w * WINDOW)) & ((1 << WINDOW) - 1);
            select(&table, digit, &mut pick);
            mm.mul_assign(acc.as_mut_words(), pick.as_words());
        }
    }
    table.iter_mut().for_each(Zeroize::zeroize);
    pick.zeroize();
    FixedMontyForm::from_montgomery(acc, params)
}

/// `out = table[index]`, reading every entry (no secret-dependent address or branch).
fn select<const L: usize>(table: &[Uint<L>], index: Word, out: &mut Uint<L>) {
    *out = Uint::ZERO;
    for (i, entry) in (0..).zip(table) {
        let x: Word = i ^ index;
        // All ones when x == 0, else zero.
        let mask = ((x | x.wrapping_neg()) >> (Word::BITS - 1)).wrapping_sub(1);
        for (o, e) in out.as_mut_limbs().iter_mut().zip(entry.as_limbs()) {
            o.0 |= e.0 & mask;
        }
    }
}

/// Montgomery form of `c mod p` for a 2048-bit `c` and a 1024-bit modulus, without a long
/// division: with `c = hi·R + lo` (R = 2^1024), `c ≡ hi·R + lo`, and R in Montgomery form is
/// `R² mod p`. Montgomery multiplication reduces any operand below R, so `hi` and `lo` need
/// not be below `p`.
fn reduce_wide(c: &U2048, params: &FixedMontyParams<L1024>) -> FixedMontyForm<L1024> {
    let (lo, hi) = c.split::<L1024>();
    let mut mm = <FixedMontyForm<L1024> as MontyForm>::Multiplier::from(params);
    let r = FixedMontyForm::from_montgomery(*params.r2(), params);
    let mut x = FixedMontyForm::new(&hi, params);
    mm.mul_assign(&mut x, &r);
    x.add(&FixedMontyForm::new(&lo, params))
}

/// The public half: modulus (Montgomery parameters) and exponent.
///
/// The RSA operations are `#[inline(never)]`: their large temporaries (2048-bit values and
/// the exponentiation window) then live on the stack only during the call, instead of
/// enlarging the frame of whatever inlines them (the whole client, with LTO).
#[derive(Clone, Copy)]
struct PublicKey {
    n: Modulus<L2048>,
    e: U64,
}

impl PublicKey {
    #[inline(never)]
    fn new(n: U2048, e: U64) -> Result<Self, KeyError> {
        if !has_bits(&n, 2048) {
            return Err(KeyError::WrongSize);
        }
        let n = Odd::new(n).into_option().ok_or(KeyError::Inconsistent)?;
        Ok(PublicKey {
            n: Modulus::new(&n).ok_or(KeyError::WrongSize)?,
            e,
        })
    }

    fn modulus(&self) -> &U2048 {
        self.n.modulus()
    }

    /// `x^e mod n` (public data: variable time in the exponent only).
    fn raise(&self, x: &U2048) -> U2048 {
        let x = pow_public(&self.n.kernel(), &self.n.enter(x), &self.e);
        self.n.leave(&x)
    }

    /// `a·b mod n`: `a·R` times `b`, divided by `R` (one operand below `n` is enough).
    #[inline(never)]
    fn mul(&self, a: &U2048, b: &U2048) -> U2048 {
        let mut x = self.n.enter(a);
        self.n.kernel().mul_assign(x.as_mut_words(), b.as_words());
        x
    }

    /// `x mod n`.
    fn reduce(&self, x: &U2048) -> U2048 {
        self.n.leave(&self.n.enter(x))
    }

    #[inline(never)]
    fn check(&self, digest: &Sha256Digest, signature: &[u8]) -> Result<(), SignatureError> {
        let bytes: &[u8; MODULUS_LEN] = signature
            .try_into()
            .map_err(|_| SignatureError::WrongLength)?;
        let s = U2048::from_be_slice(bytes);
        if &s >= self.modulus() {
            return Err(SignatureError::NotBelowModulus);
        }
        // The whole block is compared: padding, DigestInfo and digest (public data).
        if self.raise(&s) == U2048::from_be_slice(&encode_pkcs1v15(digest)) {
            Ok(())
        } else {
            Err(SignatureError::BadPadding)
        }
    }
}

/// A platform (WeChat Pay) public key on fixed-size integers.
#[derive(Clone)]
pub struct FixedRsaVerifier {
    key: PublicKey,
}

impl fmt::Debug for FixedRsaVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FixedRsaVerifier(RSA-2048)")
    }
}

impl FixedRsaVerifier {
    /// A key from its big-endian modulus (exactly 2048 bits; leading zero bytes are
    /// ignored) and public exponent (odd, at least 3).
    pub fn from_modulus(modulus: &[u8], exponent: u64) -> Result<Self, KeyError> {
        let n = uint_be::<L2048>(modulus).ok_or(KeyError::WrongSize)?;
        let e = self::exponent(&exponent.to_be_bytes())?;
        Ok(FixedRsaVerifier {
            key: PublicKey::new(n, e)?,
        })
    }

    /// A key from DER: SPKI (`BEGIN PUBLIC KEY`) or PKCS#1 (`BEGIN RSA PUBLIC KEY`).
    pub fn from_der(der: &[u8]) -> Result<Self, KeyError> {
        let (n, e) = der_keys::public(der)?;
        let n = uint_be::<L2048>(n).ok_or(KeyError::WrongSize)?;
        Ok(FixedRsaVerifier {
            key: PublicKey::new(n, exponent(e)?)?,
        })
    }

    /// Verifies a PKCS#1 v1.5 signature over a SHA-256 `digest`, saying why it failed.
    pub fn check(&self, digest: &Sha256Digest, signature: &[u8]) -> Result<(), SignatureError> {
        self.key.check(digest, signature)
    }
}

impl Verifier for FixedRsaVerifier {
    fn verify_prehash(&self, digest: &Sha256Digest, signature: &[u8; SIGNATURE_LEN]) -> bool {
        self.key.check(digest, signature).is_ok()
    }
}

/// The raw big-endian parts of an RSA-2048 private key, as PKCS#1 names them. Leading zero
/// bytes are allowed. The private exponent `d` is not needed (CRT only).
#[derive(Clone, Copy)]
pub struct RsaComponents<'a> {
    /// `n`, the 2048-bit modulus.
    pub modulus: &'a [u8],
    /// `e`, the public exponent.
    pub public_exponent: &'a [u8],
    /// `p`, the first 1024-bit prime.
    pub prime1: &'a [u8],
    /// `q`, the second 1024-bit prime.
    pub prime2: &'a [u8],
    /// `d mod (p - 1)`.
    pub exponent1: &'a [u8],
    /// `d mod (q - 1)`.
    pub exponent2: &'a [u8],
    /// `q⁻¹ mod p`.
    pub coefficient: &'a [u8],
}

impl fmt::Debug for RsaComponents<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RsaComponents(<redacted>)")
    }
}

/// The merchant API private key (CRT form) with its certificate serial.
pub struct FixedRsaSigner {
    public: PublicKey,
    p: FixedMontyParams<L1024>,
    q: FixedMontyParams<L1024>,
    dp: U1024,
    dq: U1024,
    /// `q⁻¹ mod p` in Montgomery form mod p.
    qinv: U1024,
    serial_no: String<SERIAL_CAPACITY>,
}

impl fmt::Debug for FixedRsaSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FixedRsaSigner")
            .field("serial_no", &self.serial_no)
            .field("key", &"<redacted>")
            .finish()
    }
}

impl Drop for FixedRsaSigner {
    fn drop(&mut self) {
        self.p.zeroize();
        self.q.zeroize();
        self.dp.zeroize();
        self.dq.zeroize();
        self.qinv.zeroize();
    }
}

/// A private key's plain parts while it is being loaded, cleared on drop.
struct PlainParts {
    p: Odd<U1024>,
    q: Odd<U1024>,
    qinv: U1024,
}

impl Drop for PlainParts {
    fn drop(&mut self) {
        self.p.zeroize();
        self.q.zeroize();
        self.qinv.zeroize();
    }
}

/// A 1024-bit prime factor: exactly 1024 bits and odd.
#[inline(never)]
fn prime(bytes: &[u8]) -> Result<Odd<U1024>, KeyError> {
    let p = uint_be::<L1024>(bytes).ok_or(KeyError::WrongSize)?;
    if !has_bits(&p, 1024) {
        return Err(KeyError::WrongSize);
    }
    Odd::new(p).into_option().ok_or(KeyError::Inconsistent)
}

/// The Montgomery parameters of a prime factor (constant time). Out of line and not wrapped
/// in a `Result`, so that they are computed straight into the key being assembled.
#[inline(never)]
fn prime_params(p: &Odd<U1024>) -> FixedMontyParams<L1024> {
    FixedMontyParams::new(*p)
}

/// `x` in Montgomery form mod `p`.
#[inline(never)]
fn to_montgomery(x: &U1024, p: &FixedMontyParams<L1024>) -> U1024 {
    FixedMontyForm::new(x, p).to_montgomery()
}

/// `e · d_p ≡ 1 (mod p − 1)`, checked in constant time. The product is 2048 × 64 bits
/// (schoolbook; a 64-bit `e` stays narrow, so crypto-bigint does not take its Karatsuba path).
fn inverts(e: &U64, dp: &U1024, p: &U1024) -> bool {
    let Some(p1) = NonZero::new(p.wrapping_sub(&U1024::ONE)).into_option() else {
        return false;
    };
    let product: U2048 = dp.resize::<L2048>().wrapping_mul(e);
    product.rem(&p1) == U1024::ONE
}

/// `p·q = n`.
#[inline(never)]
fn product_is(p: &U1024, q: &U1024, n: &U2048) -> bool {
    mul_wide(p, q) == *n
}

/// `q·qinv ≡ 1 (mod p)`; Montgomery conversion reduces q mod p (q may exceed p).
#[inline(never)]
fn inverse_mod(q: &U1024, qinv: &U1024, p: &FixedMontyParams<L1024>) -> bool {
    let one = FixedMontyForm::new(q, p)
        .mul(&FixedMontyForm::new(qinv, p))
        .retrieve();
    one == U1024::ONE
}

/// `a·b` for 1024-bit operands, by Horner's rule over the four 256-bit digits of `b` (from
/// the top), each step one schoolbook product of 2048 × 256 bits. crypto-bigint's
/// `concatenating_mul` takes its recursive Karatsuba path at this size, whose frames add up
/// to about 2.6 KiB of stack on a 32-bit target. Constant time (the shifts are by public
/// amounts). No step overflows: the accumulator stays below `a·2^(256·(k+1))`.
#[inline(never)]
fn mul_wide(a: &U1024, b: &U1024) -> U2048 {
    let mut wide = a.resize::<L2048>();
    let mut acc = U2048::ZERO;
    for chunk in b.as_limbs().rchunks(U256::LIMBS) {
        let mut digit = U256::ZERO;
        digit
            .as_mut_limbs()
            .iter_mut()
            .zip(chunk)
            .for_each(|(d, s)| *d = *s);
        acc = acc
            .shl_vartime(U256::BITS)
            .wrapping_add(&wide.wrapping_mul(&digit));
        digit.zeroize();
    }
    wide.zeroize();
    acc
}

impl FixedRsaSigner {
    /// A key from its raw parts. Refuses parts of the wrong size, and parts that do not
    /// belong together (`p·q ≠ n`, `e·d_p ≢ 1 mod p−1`, `e·d_q ≢ 1 mod q−1`, `q·qinv ≢ 1
    /// mod p`) with [`KeyError::Inconsistent`].
    #[inline(never)]
    pub fn from_components(key: &RsaComponents<'_>, serial_no: &str) -> Result<Self, KeyError> {
        if serial_no.is_empty() {
            return Err(KeyError::BadSerial);
        }
        let serial_no = String::try_from(serial_no).map_err(|_| KeyError::BadSerial)?;
        let n = uint_be::<L2048>(key.modulus).ok_or(KeyError::WrongSize)?;
        let public = PublicKey::new(n, exponent(key.public_exponent)?)?;
        Self::with_public(public, key, serial_no)
    }

    /// The rest of [`Self::from_components`], out of line: the signer is assembled in this
    /// frame, which is then not on the stack while the public key's Montgomery parameters
    /// are computed (together the two frames came to about 8.5 KiB on a 32-bit target).
    #[inline(never)]
    fn with_public(
        public: PublicKey,
        key: &RsaComponents<'_>,
        serial_no: String<SERIAL_CAPACITY>,
    ) -> Result<Self, KeyError> {
        // The plain secret parts, cleared however this returns.
        let mut plain = PlainParts {
            p: prime(key.prime1)?,
            q: <Odd<U1024> as crypto_bigint::ConstOne>::ONE,
            qinv: U1024::ZERO,
        };
        plain.q = prime(key.prime2)?;
        plain.qinv = uint_be::<L1024>(key.coefficient).ok_or(KeyError::Inconsistent)?;
        // Built before anything else can fail: its `Drop` clears what it holds.
        let mut signer = FixedRsaSigner {
            public,
            p: prime_params(&plain.p),
            q: prime_params(&plain.q),
            dp: U1024::ZERO,
            dq: U1024::ZERO,
            qinv: U1024::ZERO,
            serial_no,
        };
        signer.dp = uint_be::<L1024>(key.exponent1).ok_or(KeyError::Inconsistent)?;
        signer.dq = uint_be::<L1024>(key.exponent2).ok_or(KeyError::Inconsistent)?;
        if !signer.consistent(&plain.qinv) {
            return Err(KeyError::Inconsistent);
        }
        signer.qinv = to_montgomery(&plain.qinv, &signer.p);
        Ok(signer)
    }

    /// Whether the parts belong together, `qinv` being the plain coefficient. The checks are
    /// out of line, one frame each, so that their temporaries are not all on the stack at once.
    #[inline(never)]
    fn consistent(&self, qinv: &U1024) -> bool {
        let pv = self.p.modulus().as_ref();
        let qv = self.q.modulus().as_ref();
        let parts = product_is(pv, qv, self.public.modulus())
            && qinv < pv
            && self.dp < *pv
            && self.dq < *qv
            && inverts(&self.public.e, &self.dp, pv)
            && inverts(&self.public.e, &self.dq, qv);
        parts && inverse_mod(qv, qinv, &self.p)
    }

    /// A key from DER: PKCS#8 (`BEGIN PRIVATE KEY`, `apiclient_key.pem`) or PKCS#1
    /// (`BEGIN RSA PRIVATE KEY`). Two-prime keys only.
    pub fn from_der(der: &[u8], serial_no: &str) -> Result<Self, KeyError> {
        der_keys::private(der, |parts| Self::from_components(parts, serial_no))
    }

    /// Signs with RSA blinding drawn from `random`.
    pub fn with_blinding<R: RandomSource>(self, random: R) -> BlindedFixedRsaSigner<R> {
        BlindedFixedRsaSigner::new(self, random)
    }

    /// A fresh blinding: `r^e mod n` for a random `r`, and `r⁻¹` mod p and mod q (so the
    /// unblinding happens in each CRT half, on 1024-bit numbers). Tries a few draws: one
    /// without an inverse would share a factor with `n`.
    #[inline(never)]
    fn blinding(&self, random: &mut impl RandomSource) -> Result<Blinding, SignError> {
        for _ in 0..4 {
            let mut bytes = [0u8; MODULUS_LEN];
            random
                .fill_bytes(&mut bytes)
                .map_err(|_| SignError::Random)?;
            // Montgomery conversion reduces the draw mod n.
            let mut r = self.public.reduce(&U2048::from_be_slice(&bytes));
            bytes.zeroize();
            let inverses = (
                invert_half(&reduce_wide(&r, &self.p)),
                invert_half(&reduce_wide(&r, &self.q)),
            );
            if let (Some(inv_p), Some(inv_q)) = inverses {
                let blinding = Blinding {
                    r_e: self.public.raise(&r),
                    inv_p,
                    inv_q,
                };
                r.zeroize();
                return Ok(blinding);
            }
            r.zeroize();
        }
        Err(SignError::Fault)
    }

    /// One CRT half: `c^d_x mod x` from `base = c mod x`, times the blinding inverse mod x if
    /// any (Montgomery form). The caller reduces `c` ([`reduce_wide`]), so that its frame and
    /// this one (with the exponentiation's window table) are not on the stack together.
    #[inline(never)]
    fn half(
        base: &FixedMontyForm<L1024>,
        exp: &U1024,
        unblind: Option<&U1024>,
    ) -> FixedMontyForm<L1024> {
        let x = pow_secret(base, exp);
        match unblind {
            Some(inv) => x.mul(&FixedMontyForm::from_montgomery(*inv, base.params())),
            None => x,
        }
    }

    /// Garner's recombination: `m2 + q·(qinv·(m1 − m2) mod p)`.
    #[inline(never)]
    fn combine(&self, m1: &FixedMontyForm<L1024>, m2: &U1024) -> U2048 {
        // m2 < q < 2^1024: Montgomery conversion reduces it mod p.
        let m2_p = FixedMontyForm::new(m2, &self.p);
        let qinv = FixedMontyForm::from_montgomery(self.qinv, &self.p);
        let mut h = m1.sub(&m2_p).mul(&qinv).retrieve();
        let product = mul_wide(&h, self.q.modulus().as_ref());
        h.zeroize();
        product.wrapping_add(&m2.resize::<L2048>())
    }

    /// `c^d mod n` by CRT (constant-time in the key and in `c`), unblinded per half.
    #[inline(never)]
    fn private_op(&self, c: &U2048, blinding: Option<&Blinding>) -> U2048 {
        let mut base = reduce_wide(c, &self.p);
        let m1 = Self::half(&base, &self.dp, blinding.map(|b| &b.inv_p));
        base = reduce_wide(c, &self.q);
        let mut m2 = Self::half(&base, &self.dq, blinding.map(|b| &b.inv_q)).retrieve();
        base.as_montgomery_mut().zeroize();
        let s = self.combine(&m1, &m2);
        m2.zeroize();
        s
    }

    /// Signs `digest`, blinded when `blinding` is given; checks the result against the public
    /// key before writing it out.
    #[inline(never)]
    fn sign_into(
        &self,
        digest: &Sha256Digest,
        blinding: Option<&Blinding>,
        out: &mut [u8; SIGNATURE_LEN],
    ) -> Result<(), SignError> {
        let m = U2048::from_be_slice(&encode_pkcs1v15(digest));
        let c = match blinding {
            None => m,
            Some(b) => self.public.mul(&m, &b.r_e),
        };
        let mut s = self.private_op(&c, blinding);
        if s >= *self.public.modulus() || self.public.raise(&s) != m {
            // A faulty CRT result would reveal a factor of n: it does not outlive the check.
            s.zeroize();
            return Err(SignError::Fault);
        }
        out.copy_from_slice(s.to_be_bytes().as_ref());
        Ok(())
    }
}

/// `r^e mod n` and the Montgomery forms of `r⁻¹ mod p` and `r⁻¹ mod q`.
struct Blinding {
    r_e: U2048,
    inv_p: U1024,
    inv_q: U1024,
}

impl Drop for Blinding {
    fn drop(&mut self) {
        self.r_e.zeroize();
        self.inv_p.zeroize();
        self.inv_q.zeroize();
    }
}

/// Montgomery form of `r⁻¹ mod p` (constant time), if `r` (already reduced mod p by
/// [`reduce_wide`], in the caller's frame rather than on top of this one) is invertible.
#[inline(never)]
fn invert_half(r: &FixedMontyForm<L1024>) -> Option<U1024> {
    let inverse = r.invert().into_option()?;
    Some(*inverse.as_montgomery())
}

impl Signer for FixedRsaSigner {
    type Error = SignError;

    fn serial_no(&self) -> &str {
        &self.serial_no
    }

    fn sign_prehash(
        &mut self,
        digest: &Sha256Digest,
        out: &mut [u8; SIGNATURE_LEN],
    ) -> Result<(), SignError> {
        self.sign_into(digest, None, out)
    }
}

/// A [`FixedRsaSigner`] that blinds each private-key operation with fresh randomness. `K` is
/// the key itself ([`FixedRsaSigner::with_blinding`]) or a reference to it
/// ([`BlindedFixedRsaSigner::new`]), e.g. to a key kept in a `static` on a device.
pub struct BlindedFixedRsaSigner<R, K = FixedRsaSigner> {
    inner: K,
    random: R,
}

impl<R, K: Borrow<FixedRsaSigner>> BlindedFixedRsaSigner<R, K> {
    /// Blinds `key`'s signatures with `random`.
    pub fn new(key: K, random: R) -> Self {
        BlindedFixedRsaSigner { inner: key, random }
    }
}

impl<R, K: Borrow<FixedRsaSigner>> fmt::Debug for BlindedFixedRsaSigner<R, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlindedFixedRsaSigner")
            .field("inner", self.inner.borrow())
            .finish_non_exhaustive()
    }
}

impl<R: RandomSource, K: Borrow<FixedRsaSigner>> Signer for BlindedFixedRsaSigner<R, K> {
    type Error = SignError;

    fn serial_no(&self) -> &str {
        self.inner.borrow().serial_no()
    }

    fn sign_prehash(
        &mut self,
        digest: &Sha256Digest,
        out: &mut [u8; SIGNATURE_LEN],
    ) -> Result<(), SignError> {
        let key = self.inner.borrow();
        let blinding = key.blinding(&mut self.random)?;
        key.sign_into(digest, Some(&blinding), out)
    }
}

/// DER key reading with the `pkcs1`/`pkcs8` crates' borrowed types (no allocation).
mod der_keys {
    use pkcs1::der::Decode;
    use pkcs1::{ALGORITHM_OID, RsaPrivateKeyRef, RsaPublicKeyRef};
    use pkcs8::PrivateKeyInfoRef;
    use pkcs8::spki::SubjectPublicKeyInfoRef;

    use super::{KeyError, RsaComponents};

    /// Modulus and exponent bytes of an SPKI or PKCS#1 public key.
    pub(super) fn public(der: &[u8]) -> Result<(&[u8], &[u8]), KeyError> {
        let pkcs1 = match SubjectPublicKeyInfoRef::from_der(der) {
            Ok(spki) => {
                if spki.algorithm.oid != ALGORITHM_OID {
                    return Err(KeyError::Unreadable);
                }
                spki.subject_public_key
                    .as_bytes()
                    .ok_or(KeyError::Unreadable)?
            }
            Err(_) => der,
        };
        let key = RsaPublicKeyRef::from_der(pkcs1).map_err(|_| KeyError::Unreadable)?;
        Ok((key.modulus.as_bytes(), key.public_exponent.as_bytes()))
    }

    /// Calls `load` with the parts of a PKCS#8 or PKCS#1 private key.
    pub(super) fn private<T>(
        der: &[u8],
        load: impl FnOnce(&RsaComponents<'_>) -> Result<T, KeyError>,
    ) -> Result<T, KeyError> {
        let pkcs1 = match PrivateKeyInfoRef::from_der(der) {
            Ok(info) => {
                if info.algorithm.oid != ALGORITHM_OID {
                    return Err(KeyError::Unreadable);
                }
                info.private_key.as_bytes()
            }
            Err(_) => der,
        };
        let key = RsaPrivateKeyRef::from_der(pkcs1).map_err(|_| KeyError::Unreadable)?;
        if key.other_prime_infos.is_some() {
            return Err(KeyError::Unreadable);
        }
        load(&RsaComponents {
            modulus: key.modulus.as_bytes(),
            public_exponent: key.public_exponent.as_bytes(),
            prime1: key.prime1.as_bytes(),
            prime2: key.prime2.as_bytes(),
            exponent1: key.exponent1.as_bytes(),
            exponent2: key.exponent2.as_bytes(),
            coefficient: key.coefficient.as_bytes(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path::percent_decode;
    use crate::sign::{SigningInput, authorization, parse_authorization, request_digest};
    use crate::transport::{Method, ResponseHeaders};
    use crate::verify::{PlatformKeys, verify_response};
    use base64ct::{Base64, Encoding};
    use proptest::prelude::*;
    use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};
    use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
    use rsa::signature::hazmat::PrehashVerifier;
    use rsa::traits::{PrivateKeyParts, PublicKeyParts};
    use sha2::Digest;
    use std::prelude::rust_2024::*;
    use std::string::String;

    /// The signing vectors, kept in the repository (`tests/vectors/`).
    fn vectors() -> serde_json::Value {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors/vectors.json");
        let text = std::fs::read_to_string(path).expect("tests/vectors/vectors.json");
        serde_json::from_str(&text).expect("vectors.json is JSON")
    }

    fn s<'a>(v: &'a serde_json::Value, key: &str) -> &'a str {
        v[key].as_str().expect(key)
    }

    fn pem_to_der(pem: &str) -> Vec<u8> {
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        Base64::decode_vec(body.trim()).expect("PEM body is base64")
    }

    fn merchant_der() -> Vec<u8> {
        pem_to_der(s(&vectors()["keys"], "merchant_private_key_pem"))
    }

    fn reference_key() -> rsa::PrivateKey {
        rsa::PrivateKey::from_pkcs8_der(&merchant_der()).expect("pkcs8")
    }

    fn reference_sign(key: &rsa::PrivateKey, digest: &[u8; 32]) -> Vec<u8> {
        key.sign(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), digest)
            .expect("rsa signs")
    }

    fn signer() -> FixedRsaSigner {
        FixedRsaSigner::from_der(&merchant_der(), "S").expect("merchant key loads")
    }

    /// Deterministic stand-in for a hardware RNG.
    struct Counter(u8);
    impl RandomSource for Counter {
        fn fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), crate::Error> {
            dest.iter_mut().for_each(|b| {
                self.0 = self.0.wrapping_mul(31).wrapping_add(7);
                *b = self.0
            });
            Ok(())
        }
    }

    struct Broken;
    impl RandomSource for Broken {
        fn fill_bytes(&mut self, _: &mut [u8]) -> Result<(), crate::Error> {
            Err(crate::Error::Random)
        }
    }

    fn rebuild_check(target: &str) {
        // Every segment and query value must decode (the vectors are well-formed).
        let mut buf = [0u8; 512];
        for piece in target.split(['/', '?', '&', '=']) {
            percent_decode(piece, &mut buf).expect("decodes");
        }
    }

    #[test]
    fn request_vectors_byte_for_byte() {
        let all = vectors();
        let keys = &all["keys"];
        let der = pem_to_der(s(keys, "merchant_private_key_pem"));
        let mut plain =
            FixedRsaSigner::from_der(&der, s(keys, "merchant_serial")).expect("merchant key");
        let mut blinded = FixedRsaSigner::from_der(&der, s(keys, "merchant_serial"))
            .expect("merchant key")
            .with_blinding(Counter(3));
        let cases = all["request_vectors"].as_array().expect("request_vectors");
        assert!(!cases.is_empty());
        for v in cases {
            let name = s(v, "name");
            let method = Method::parse(s(v, "method")).expect("method");
            let target = s(v, "path_with_query");
            rebuild_check(target);
            let timestamp: u64 = s(v, "timestamp").parse().expect("timestamp");
            let body = s(v, "body").as_bytes();
            let digest: [u8; 32] = sha2::Sha256::digest(s(v, "canonical_message")).into();
            assert_eq!(
                request_digest(method, target, timestamp, s(v, "nonce"), body),
                digest,
                "{name}"
            );
            let input = SigningInput {
                mchid: s(keys, "mchid"),
                method,
                target,
                body,
                timestamp,
                nonce: s(v, "nonce"),
            };
            for (which, header) in [
                ("plain", {
                    let mut buf = [0u8; crate::sign::AUTHORIZATION_CAPACITY];
                    authorization(&mut plain, &input, &mut buf)
                        .expect("signs")
                        .to_owned()
                }),
                ("blinded", {
                    let mut buf = [0u8; crate::sign::AUTHORIZATION_CAPACITY];
                    authorization(&mut blinded, &input, &mut buf)
                        .expect("signs")
                        .to_owned()
                }),
            ] {
                let ours = parse_authorization(&header).expect("parses");
                assert_eq!(ours.signature, s(v, "signature"), "{name} ({which})");
                for peer in ["authorization_node", "authorization_python"] {
                    assert_eq!(
                        parse_authorization(s(v, peer)),
                        Ok(ours),
                        "{name} ({which}): {peer}"
                    );
                }
            }
        }
    }

    #[test]
    fn response_vectors_verdicts() {
        let all = vectors();
        let keys = &all["keys"];
        let der = pem_to_der(s(keys, "platform_public_key_pem"));
        let platform = FixedRsaVerifier::from_der(&der).expect("platform key loads");
        let set: PlatformKeys<FixedRsaVerifier> =
            PlatformKeys::with_key(s(keys, "platform_serial"), platform).expect("fits");
        let cases = all["response_vectors"]
            .as_array()
            .expect("response_vectors");
        assert!(cases.iter().any(|v| v["expect_valid"] == true));
        assert!(cases.iter().any(|v| v["expect_valid"] == false));
        for v in cases {
            let mut headers = ResponseHeaders::default();
            headers.capture("Wechatpay-Timestamp", s(v, "timestamp").as_bytes());
            headers.capture("Wechatpay-Nonce", s(v, "nonce").as_bytes());
            headers.capture("Wechatpay-Signature", s(v, "signature").as_bytes());
            headers.capture("Wechatpay-Serial", s(v, "serial").as_bytes());
            headers.capture("Wechatpay-Signature-Type", b"WECHATPAY2-SHA256-RSA2048");
            let verdict = verify_response(&set, &headers, s(v, "body").as_bytes(), 1_554_208_460);
            assert_eq!(
                verdict.is_ok(),
                v["expect_valid"].as_bool().expect("bool"),
                "{}: {verdict:?}",
                s(v, "name")
            );
        }
    }

    #[test]
    fn key_forms_agree() {
        let all = vectors();
        let keys = &all["keys"];
        let reference = reference_key();
        let pkcs1 = reference.to_pkcs1_der().expect("pkcs1");
        let limbs = |x: &rsa::BoxedUint| x.to_be_bytes().to_vec();
        let primes = reference.primes();
        let (p, q) = (limbs(&primes[0]), limbs(&primes[1]));
        let (dp, dq) = (
            limbs(reference.dp().expect("dp")),
            limbs(reference.dq().expect("dq")),
        );
        let qinv = limbs(&reference.crt_coefficient().expect("qinv"));
        let (n, e) = (limbs(reference.n().as_ref()), limbs(reference.e()));
        let raw = RsaComponents {
            modulus: &n,
            public_exponent: &e,
            prime1: &p,
            prime2: &q,
            exponent1: &dp,
            exponent2: &dq,
            coefficient: &qinv,
        };
        let digest = [9u8; 32];
        let expected = reference_sign(&reference, &digest);
        for (form, mut key) in [
            ("pkcs8", signer()),
            (
                "pkcs1",
                FixedRsaSigner::from_der(pkcs1.as_bytes(), "S").expect("pkcs1"),
            ),
            (
                "raw",
                FixedRsaSigner::from_components(&raw, "S").expect("raw"),
            ),
        ] {
            let mut out = [0u8; 256];
            key.sign_prehash(&digest, &mut out).expect("signs");
            assert_eq!(out.as_slice(), expected.as_slice(), "{form}");
        }
        let spki = pem_to_der(s(keys, "merchant_public_key_pem"));
        let public_pkcs1 = reference
            .to_public_key()
            .to_pkcs1_der()
            .expect("pkcs1 public");
        let e65537 = u64::from_str_radix(&hex(&e), 16).expect("small e");
        for (form, key) in [
            ("spki", FixedRsaVerifier::from_der(&spki)),
            ("pkcs1", FixedRsaVerifier::from_der(public_pkcs1.as_bytes())),
            ("raw", FixedRsaVerifier::from_modulus(&n, e65537)),
        ] {
            let key = key.expect(form);
            assert_eq!(key.check(&digest, &expected), Ok(()), "{form}");
        }
        let debug = format!("{:?} {:?}", signer(), raw);
        assert!(
            debug.contains("<redacted>") && !debug.contains(&hex(&p)[..8]),
            "{debug}"
        );
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn malformed_keys_refused_at_load() {
        let der = merchant_der();
        let spki = pem_to_der(s(&vectors()["keys"], "merchant_public_key_pem"));
        let reference = reference_key();
        let n = reference.n().to_be_bytes().to_vec();
        let mut even = n.clone();
        *even.last_mut().expect("n") &= 0xfe;
        let mut short = n.clone();
        short[0] = 0x7f;
        let long = [&[1u8][..], &n].concat();
        let private: &[(&str, &[u8], KeyError)] = &[
            ("empty", b"", KeyError::Unreadable),
            ("garbage", b"\x30\x03\x02\x01", KeyError::Unreadable),
            ("truncated", &der[..der.len() - 1], KeyError::Unreadable),
            ("public key as private", &spki, KeyError::Unreadable),
        ];
        for (name, bytes, want) in private {
            assert_eq!(
                FixedRsaSigner::from_der(bytes, "S").err(),
                Some(*want),
                "{name}"
            );
        }
        assert_eq!(
            FixedRsaSigner::from_der(&der, "").err(),
            Some(KeyError::BadSerial)
        );
        assert_eq!(
            FixedRsaSigner::from_der(&der, &"S".repeat(200)).err(),
            Some(KeyError::BadSerial)
        );
        let public: &[(&str, &[u8], u64, KeyError)] = &[
            ("even modulus", &even, 65537, KeyError::Inconsistent),
            ("2047-bit modulus", &short, 65537, KeyError::WrongSize),
            ("2049-bit modulus", &long, 65537, KeyError::WrongSize),
            ("empty modulus", b"", 65537, KeyError::WrongSize),
            ("even exponent", &n, 65536, KeyError::Unreadable),
            ("exponent 1", &n, 1, KeyError::Unreadable),
        ];
        for (name, modulus, e, want) in public {
            assert_eq!(
                FixedRsaVerifier::from_modulus(modulus, *e).err(),
                Some(*want),
                "{name}"
            );
        }
        assert_eq!(
            FixedRsaVerifier::from_der(&der).err(),
            Some(KeyError::Unreadable),
            "private key as public"
        );
        // Parts that do not belong together.
        let limbs = |x: &rsa::BoxedUint| x.to_be_bytes().to_vec();
        let primes = reference.primes();
        let (p, q) = (limbs(&primes[0]), limbs(&primes[1]));
        let (dp, dq) = (
            limbs(reference.dp().expect("dp")),
            limbs(reference.dq().expect("dq")),
        );
        let qinv = limbs(&reference.crt_coefficient().expect("qinv"));
        let e = limbs(reference.e());
        let good = RsaComponents {
            modulus: &n,
            public_exponent: &e,
            prime1: &p,
            prime2: &q,
            exponent1: &dp,
            exponent2: &dq,
            coefficient: &qinv,
        };
        let bad: &[(&str, RsaComponents<'_>)] = &[
            (
                "p and q swapped, qinv kept",
                RsaComponents {
                    prime1: &q,
                    prime2: &p,
                    exponent1: &dq,
                    exponent2: &dp,
                    ..good
                },
            ),
            (
                "dp for dq",
                RsaComponents {
                    exponent2: &dp,
                    ..good
                },
            ),
            (
                "wrong qinv",
                RsaComponents {
                    coefficient: &dp,
                    ..good
                },
            ),
            (
                "wrong modulus",
                RsaComponents {
                    modulus: &long[..256],
                    ..good
                },
            ),
            (
                "p as modulus",
                RsaComponents {
                    modulus: &p,
                    ..good
                },
            ),
        ];
        for (name, parts) in bad {
            let got = FixedRsaSigner::from_components(parts, "S").err();
            assert!(
                matches!(got, Some(KeyError::Inconsistent | KeyError::WrongSize)),
                "{name}: {got:?}"
            );
        }
    }

    #[test]
    fn bad_signatures_fail_cleanly() {
        let reference = reference_key();
        let n = reference.n().to_be_bytes().to_vec();
        let verifier = FixedRsaVerifier::from_modulus(&n, 65537).expect("loads");
        let digest = [5u8; 32];
        let good = reference_sign(&reference, &digest);
        let mut flipped = good.clone();
        flipped[100] ^= 1;
        let mut n_plus = n.clone();
        *n_plus.last_mut().expect("n") += 1;
        let cases: &[(&str, &[u8], Result<(), SignatureError>)] = &[
            ("good", &good, Ok(())),
            ("empty", b"", Err(SignatureError::WrongLength)),
            ("255 bytes", &good[1..], Err(SignatureError::WrongLength)),
            (
                "257 bytes",
                &[&[0u8][..], &good].concat(),
                Err(SignatureError::WrongLength),
            ),
            ("equal to n", &n, Err(SignatureError::NotBelowModulus)),
            ("n + 1", &n_plus, Err(SignatureError::NotBelowModulus)),
            (
                "all ones",
                &[0xff; 256],
                Err(SignatureError::NotBelowModulus),
            ),
            ("zero", &[0; 256], Err(SignatureError::BadPadding)),
            (
                "one",
                &{
                    let mut one = [0; 256];
                    one[255] = 1;
                    one
                },
                Err(SignatureError::BadPadding),
            ),
            ("flipped bit", &flipped, Err(SignatureError::BadPadding)),
        ];
        for (name, sig, want) in cases {
            assert_eq!(verifier.check(&digest, sig), *want, "{name}");
        }
        assert_eq!(
            verifier.check(&[6u8; 32], &good),
            Err(SignatureError::BadPadding),
            "other digest"
        );
        // A raw RSA value whose padding is wrong in each field (correct key, wrong block).
        let private = signer();
        for corrupt in [0usize, 1, 2, 203, 204, 230] {
            let mut em = encode_pkcs1v15(&digest);
            em[corrupt] ^= 0x10;
            let s = private.private_op(&U2048::from_be_slice(&em), None);
            let sig = s.to_be_bytes();
            let got = verifier.check(&digest, sig.as_ref());
            let ok = sig.as_ref() == good.as_slice();
            assert!(
                !ok && got == Err(SignatureError::BadPadding),
                "byte {corrupt}: {got:?}"
            );
        }
    }

    #[test]
    fn faulty_computation_is_not_released() {
        let mut key = signer();
        key.dq = key.dq.wrapping_add(&U1024::ONE);
        let mut out = [0xaau8; 256];
        assert_eq!(key.sign_prehash(&[1; 32], &mut out), Err(SignError::Fault));
        assert_eq!(out, [0xaau8; 256], "nothing written");
        let mut blinded = signer().with_blinding(Broken);
        assert_eq!(
            blinded.sign_prehash(&[1; 32], &mut out),
            Err(SignError::Random)
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Random messages: our signature equals the `rsa` crate's, blinded or not, and both
        /// verifiers agree on it and on a corrupted copy.
        #[test]
        fn agrees_with_rsa_crate(message in proptest::collection::vec(any::<u8>(), 0..300),
                                 seed in any::<u8>(),
                                 flip in 0usize..2048) {
            let reference = reference_key();
            let digest: [u8; 32] = sha2::Sha256::digest(&message).into();
            let expected = reference_sign(&reference, &digest);
            let mut plain = [0u8; 256];
            signer().sign_prehash(&digest, &mut plain).expect("signs");
            prop_assert_eq!(plain.as_slice(), expected.as_slice());
            let mut blinded = [0u8; 256];
            signer().with_blinding(Counter(seed)).sign_prehash(&digest, &mut blinded).expect("signs");
            prop_assert_eq!(blinded, plain);

            let ours = FixedRsaVerifier::from_modulus(&reference.n().to_be_bytes(), 65537).expect("loads");
            let theirs = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(reference.to_public_key());
            let mut corrupted = plain;
            corrupted[flip / 8] ^= 1 << (flip % 8);
            for sig in [plain, corrupted] {
                let their_verdict = rsa::pkcs1v15::Signature::try_from(&sig[..])
                    .map(|s| theirs.verify_prehash(&digest, &s).is_ok())
                    .unwrap_or(false);
                prop_assert_eq!(ours.verify_prehash(&digest, &sig), their_verdict);
            }
        }
    }

    fn odd_1024(bytes: &[u8]) -> FixedMontyParams<L1024> {
        let mut m = U1024::from_be_slice(bytes);
        m = m.bitor(&U1024::ONE).bitor(&U1024::ONE.shl_vartime(1023));
        FixedMontyParams::new(Odd::new(m).expect("odd"))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// The hand-written pieces against crypto-bigint's own: the constant-time window
        /// exponentiation against `pow`, square-and-multiply against `pow_vartime`, and the
        /// wide reduction against `rem`.
        #[test]
        fn arithmetic_agrees_with_crypto_bigint(
            m in proptest::collection::vec(any::<u8>(), 128),
            x in proptest::collection::vec(any::<u8>(), 128),
            k in proptest::collection::vec(any::<u8>(), 128),
            c in proptest::collection::vec(any::<u8>(), 256),
            e in 3u64..,
        ) {
            let params = odd_1024(&m);
            let base = FixedMontyForm::new(&U1024::from_be_slice(&x), &params);
            let exp = U1024::from_be_slice(&k);
            prop_assert_eq!(pow_secret(&base, &exp).retrieve(), base.pow(&exp).retrieve());
            let e = U64::from_u64(e);
            prop_assert_eq!(
                pow_public(&kernel(&params), base.as_montgomery(), &e),
                *base.pow_vartime(&e).as_montgomery()
            );
            let c = U2048::from_be_slice(&c);
            prop_assert_eq!(
                reduce_wide(&c, &params).retrieve(),
                c.rem(params.modulus().as_nz_ref())
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// The chunked schoolbook product against crypto-bigint's Karatsuba one, and the
        /// narrow `e·d` product against the wide one it replaced.
        #[test]
        fn wide_products_agree_with_crypto_bigint(
            a in proptest::collection::vec(any::<u8>(), 128),
            b in proptest::collection::vec(any::<u8>(), 128),
            e in any::<u64>(),
        ) {
            let (a, b) = (U1024::from_be_slice(&a), U1024::from_be_slice(&b));
            let expected: U2048 = a.concatenating_mul(&b);
            prop_assert_eq!(mul_wide(&a, &b), expected);
            let e = U64::from_u64(e);
            prop_assert_eq!(
                a.resize::<L2048>().wrapping_mul(&e),
                a.resize::<L2048>().wrapping_mul(&e.resize::<L2048>())
            );
        }
    }

    #[test]
    fn wide_product_edges() {
        for (a, b) in [
            (U1024::ZERO, U1024::MAX),
            (U1024::MAX, U1024::MAX),
            (U1024::ONE, U1024::MAX),
            (U1024::MAX.shr_vartime(1), U1024::ONE.shl_vartime(1023)),
        ] {
            let expected: U2048 = a.concatenating_mul(&b);
            assert_eq!(mul_wide(&a, &b), expected);
            assert_eq!(mul_wide(&b, &a), expected);
        }
    }

    #[test]
    fn platform_key_from_vectors_matches_reference() {
        let pem = s(&vectors()["keys"], "platform_public_key_pem").to_owned();
        let reference = rsa::PublicKey::from_public_key_pem(&pem).expect("spki");
        let ours = FixedRsaVerifier::from_der(&pem_to_der(&pem)).expect("spki");
        assert_eq!(
            ours.key.modulus().to_be_bytes().as_ref(),
            reference.n().to_be_bytes().as_ref()
        );
    }
}
