//! Montgomery multiplication for the fixed-size RSA provider: one interleaved CIOS loop.
//!
//! crypto-bigint's multiplier keeps its carries as sums of three wide words, which costs about
//! 18 instructions per step of the inner loop (two limb products) on a Cortex-M4, some 19,000
//! per 1024-bit product. Written as below, every product is `a·b + c + d` on a word pair, which
//! cannot overflow the wide word and which LLVM lowers to one `UMAAL` on ARMv7E-M (and to
//! `mul`/`mulh` plus adds elsewhere): about 10.5 instructions per step, and blinded RSA-2048
//! signing went from 53.9 M to 37 M instructions (FIRMWARE.md). The arithmetic is the
//! textbook one (Koç, Acar, Kaliski, "Analyzing and comparing Montgomery multiplication
//! algorithms", 1996, CIOS), on crypto-bigint's limbs and Montgomery parameters, so values move
//! freely between the two; the tests check it against crypto-bigint on random moduli.
//!
//! Constant time: no branch and no address depends on the operands; the final subtraction is
//! selected with a mask.

use crypto_bigint::{Odd, Uint, WideWord, Word};
use zeroize::Zeroize;

/// `a·b + c + d` as (low word, high word); at most `(W−1)² + 2(W−1) = W² − 1`, so it fits.
#[inline(always)]
fn mac(a: Word, b: Word, c: Word, d: Word) -> (Word, Word) {
    let s = WideWord::from(a) * WideWord::from(b) + WideWord::from(c) + WideWord::from(d);
    // Truncation is the point: the low and the high word of the wide sum.
    #[allow(clippy::cast_possible_truncation)]
    (s as Word, (s >> Word::BITS) as Word)
}

/// An odd modulus `n` below `R = W^L` and `n0 = −n⁻¹ mod W` (crypto-bigint's `mod_neg_inv`).
pub(super) struct Montgomery<'a, const L: usize> {
    pub(super) n: &'a [Word; L],
    pub(super) n0: Word,
}

impl<const L: usize> Montgomery<'_, L> {
    /// `a ← a·b·R⁻¹ mod n`, the result below `n`, for `a·b < n·R`: one operand below `n`
    /// and the other below `R`, as every caller passes them (the exponentiations' operands are
    /// below `n`; `Modulus::enter` and `leave` multiply any `x < R` by `R² mod n` or by 1).
    /// Then the running value stays below `a + n < 2R`, so the top carry is 0 or 1, and ends
    /// below `2n`, so one conditional subtraction reduces it. The scratch is cleared after use
    /// (it held the secret exponentiation's intermediate values).
    #[inline(never)]
    pub(super) fn mul_assign(&self, a: &mut [Word; L], b: &[Word; L]) {
        let mut t = [0; L];
        let top = self.product(a, b, &mut t);
        self.reduce(&t, top, a);
        t.zeroize();
    }

    /// `a ← a²·R⁻¹ mod n`, for `a < n`: the multiplication on a copy (one copy of the code),
    /// cleared afterwards.
    #[inline(always)]
    pub(super) fn square_assign(&self, a: &mut [Word; L]) {
        let mut b = *a;
        self.mul_assign(a, &b);
        b.zeroize();
    }

    /// `t + top·R = a·b·R⁻¹ mod n + (0 or n)`, below `2n`: for each word `b_i`, add `a·b_i`
    /// and the multiple `m·n` of the modulus that clears the lowest word, and shift down one
    /// word, in one pass over `t`. `t` starts at zero. The pass goes two words at a time, so
    /// that the two carries stay in the same registers from step to step.
    #[inline(always)]
    fn product(&self, a: &[Word; L], b: &[Word; L], t: &mut [Word; L]) -> Word {
        let (Some((&a0, a_rest)), Some((&n0, n_rest))) = (a.split_first(), self.n.split_first())
        else {
            return 0;
        };
        let (a_pairs, n_pairs) = (a_rest.chunks_exact(2), n_rest.chunks_exact(2));
        let mut top: Word = 0;
        for &bi in b {
            let Some((t0, t_rest)) = t.split_first_mut() else {
                return 0;
            };
            let (lo, mut c1) = mac(a0, bi, 0, *t0);
            let m = lo.wrapping_mul(self.n0);
            // The low word of m·n₀ + lo is zero by the choice of m.
            let (_, mut c2) = mac(m, n0, 0, lo);
            let mut carry = |aj: Word, nj: Word, tj: Word| {
                let (lo, hi) = mac(aj, bi, c1, tj);
                c1 = hi;
                let (lo, hi) = mac(m, nj, c2, lo);
                c2 = hi;
                lo
            };
            let mut prev = t0;
            let mut t_pairs = t_rest.chunks_exact_mut(2);
            for ((tp, ap), np) in (&mut t_pairs).zip(a_pairs.clone()).zip(n_pairs.clone()) {
                if let ([t1, t2], [a1, a2], [n1, n2]) = (tp, ap, np) {
                    *prev = carry(*a1, *n1, *t1);
                    *t1 = carry(*a2, *n2, *t2);
                    prev = t2;
                }
            }
            let rest = t_pairs.into_remainder().iter_mut();
            for ((tj, &aj), &nj) in rest.zip(a_pairs.remainder()).zip(n_pairs.remainder()) {
                *prev = carry(aj, nj, *tj);
                prev = tj;
            }
            // top ≤ 1 and the value stays below 2n, so the sum's high word is 0 or 1.
            let (lo, hi) = mac(1, top, c1, c2);
            *prev = lo;
            top = hi;
        }
        top
    }

    /// `out = t + top·R − n` if that is not negative, else `t`. The borrow is the top bit of
    /// a wide difference (no flag turned into a branch, as on Thumb-1), and the selection mask
    /// is kept opaque to the optimiser so that it stays arithmetic.
    #[inline(always)]
    fn reduce(&self, t: &[Word; L], top: Word, out: &mut [Word; L]) {
        let mut borrow: Word = 0;
        for ((o, &tj), &nj) in out.iter_mut().zip(t).zip(self.n) {
            let d = WideWord::from(tj)
                .wrapping_sub(WideWord::from(nj))
                .wrapping_sub(WideWord::from(borrow));
            #[allow(clippy::cast_possible_truncation)]
            {
                *o = d as Word;
                borrow = (d >> (2 * Word::BITS - 1)) as Word;
            }
        }
        // Keep t when the subtraction borrowed past the top word: borrow = 1 and top = 0.
        let keep = core::hint::black_box(borrow & !top & 1).wrapping_neg();
        for (o, &tj) in out.iter_mut().zip(t) {
            *o ^= keep & (*o ^ tj);
        }
    }
}

/// A modulus with the constants its Montgomery arithmetic needs, computed with the kernel
/// itself: no division, and none of crypto-bigint's parameter set-up (its Karatsuba squaring
/// and reciprocal division are some 6 KiB of flash on a Cortex-M4, and a 3 KiB stack frame).
///
/// Only for moduli with the top bit of their `L` words set (RSA moduli and primes of exactly
/// the full size), where `R mod n = R − n`. Constant time in `n`.
#[derive(Clone, Copy)]
pub(super) struct Modulus<const L: usize> {
    n: Uint<L>,
    /// `R² mod n`, to enter Montgomery form.
    r2: Uint<L>,
    /// `−n⁻¹ mod W`.
    n0: Word,
}

impl<const L: usize> Modulus<L> {
    /// `None` unless the top bit of `n` is set (an odd modulus is required by the type).
    #[inline(never)]
    pub(super) fn new(n: &Odd<Uint<L>>) -> Option<Self> {
        let n = *n.as_ref();
        if n.bit_width() != Uint::<L>::BITS {
            return None;
        }
        // Newton's iteration doubles the correct low bits of n⁻¹ mod W each time; n is its
        // own inverse to 3 bits (n² ≡ 1 mod 8), and 3·2⁵ ≥ 64.
        let low = n.as_words().first().copied().unwrap_or(1);
        let mut inv = low;
        for _ in 0..5 {
            inv = inv
                .wrapping_mul(2u8.into())
                .wrapping_sub(low.wrapping_mul(inv).wrapping_mul(inv));
        }
        let mut m = Modulus {
            n,
            r2: Uint::ZERO,
            n0: inv.wrapping_neg(),
        };
        // 2R mod n = 2(R − n) mod n: 2 in Montgomery form. Squaring it k times gives
        // 2^(2^k) in Montgomery form, which for 2^k = bits(R) is R·R mod n = R² mod n.
        let mut x = n.wrapping_neg();
        let carry = x.as_words().last().copied().unwrap_or(0) >> (Word::BITS - 1);
        let doubled = x.shl_vartime(1);
        m.kernel()
            .reduce(doubled.as_words(), carry, x.as_mut_words());
        let bits = Uint::<L>::BITS;
        if !bits.is_power_of_two() {
            return None;
        }
        for _ in 0..bits.trailing_zeros() {
            m.kernel().square_assign(x.as_mut_words());
        }
        m.r2 = x;
        Some(m)
    }

    pub(super) fn modulus(&self) -> &Uint<L> {
        &self.n
    }

    pub(super) fn kernel(&self) -> Montgomery<'_, L> {
        Montgomery {
            n: self.n.as_words(),
            n0: self.n0,
        }
    }

    /// `x·R mod n` for any `x` (below `R`).
    pub(super) fn enter(&self, x: &Uint<L>) -> Uint<L> {
        let mut y = *x;
        self.kernel()
            .mul_assign(y.as_mut_words(), self.r2.as_words());
        y
    }

    /// `x·R⁻¹ mod n`: out of Montgomery form, for any `x` (below `R`).
    pub(super) fn leave(&self, x: &Uint<L>) -> Uint<L> {
        let mut y = *x;
        self.kernel()
            .mul_assign(y.as_mut_words(), Uint::<L>::ONE.as_words());
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crypto_bigint::modular::{FixedMontyForm, FixedMontyParams};
    use crypto_bigint::{Odd, U1024, U2048, Uint};
    use proptest::prelude::*;
    use std::vec::Vec;

    fn check<const L: usize>(m: Uint<L>, x: Uint<L>, y: Uint<L>) -> Result<(), TestCaseError> {
        let params = FixedMontyParams::new(Odd::new(m.bitor(&Uint::ONE)).expect("odd"));
        let (x, y) = (
            FixedMontyForm::new(&x, &params),
            FixedMontyForm::new(&y, &params),
        );
        let kernel = Montgomery {
            n: params.modulus().as_ref().as_words(),
            n0: params.mod_neg_inv().0,
        };
        let mut ours = *x.as_montgomery();
        kernel.mul_assign(ours.as_mut_words(), y.as_montgomery().as_words());
        prop_assert_eq!(ours, *x.mul(&y).as_montgomery());
        let mut ours = *x.as_montgomery();
        kernel.square_assign(ours.as_mut_words());
        prop_assert_eq!(ours, *x.square().as_montgomery());
        Ok(())
    }

    fn edge<const L: usize>() -> Vec<Uint<L>> {
        vec![
            Uint::ZERO,
            Uint::ONE,
            Uint::MAX,
            Uint::MAX.shr_vartime(1),
            Uint::ONE.shl_vartime(Uint::<L>::BITS - 1),
        ]
    }

    /// Moduli with the top word full or nearly empty, operands at 0, 1, n − 1 and the
    /// carries' worst cases.
    #[test]
    fn edges_agree_with_crypto_bigint() {
        for m in edge::<{ U1024::LIMBS }>() {
            for x in edge() {
                for y in edge() {
                    check(m, x, y).expect("1024");
                }
                let n_minus_1 = m.bitor(&Uint::ONE).wrapping_sub(&Uint::ONE);
                check(m, x, n_minus_1).expect("n - 1");
                check(m, n_minus_1, n_minus_1).expect("n - 1 squared");
            }
        }
    }

    /// The constants against crypto-bigint's, and the way in and out of Montgomery form.
    fn check_modulus<const L: usize>(m: Uint<L>, x: Uint<L>) -> Result<(), TestCaseError> {
        let top = Uint::ONE.shl_vartime(Uint::<L>::BITS - 1);
        let n = Odd::new(m.bitor(&Uint::ONE).bitor(&top)).expect("odd");
        let params = FixedMontyParams::new(n);
        let ours = Modulus::new(&n).expect("full size");
        prop_assert_eq!(ours.r2, *params.r2());
        prop_assert_eq!(ours.n0, params.mod_neg_inv().0);
        let monty = FixedMontyForm::new(&x, &params);
        prop_assert_eq!(ours.enter(&x), *monty.as_montgomery());
        prop_assert_eq!(ours.leave(monty.as_montgomery()), monty.retrieve());
        Ok(())
    }

    #[test]
    fn modulus_needs_the_top_bit() {
        for m in [
            U1024::ONE,
            U1024::MAX.shr_vartime(1),
            U1024::from_u64(65537),
        ] {
            assert!(Modulus::new(&Odd::new(m).expect("odd")).is_none(), "{m}");
        }
        assert!(Modulus::new(&Odd::new(U1024::MAX).expect("odd")).is_some());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn modulus_agrees_with_crypto_bigint(
            m in proptest::collection::vec(any::<u8>(), 256),
            x in proptest::collection::vec(any::<u8>(), 256),
        ) {
            check_modulus(U1024::from_be_slice(&m[..128]), U1024::from_be_slice(&x[..128]))?;
            check_modulus(U2048::from_be_slice(&m), U2048::from_be_slice(&x))?;
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn agrees_with_crypto_bigint_1024(
            m in proptest::collection::vec(any::<u8>(), 128),
            x in proptest::collection::vec(any::<u8>(), 128),
            y in proptest::collection::vec(any::<u8>(), 128),
        ) {
            check(U1024::from_be_slice(&m), U1024::from_be_slice(&x), U1024::from_be_slice(&y))?;
        }

        /// Odd limb counts: the two-word pass then ends with a single word (RSA's sizes never
        /// do, on 32- or 64-bit words).
        #[test]
        fn agrees_with_crypto_bigint_odd_lengths(
            m in proptest::collection::vec(any::<u8>(), Uint::<5>::BYTES),
            x in proptest::collection::vec(any::<u8>(), Uint::<5>::BYTES),
            y in proptest::collection::vec(any::<u8>(), Uint::<5>::BYTES),
        ) {
            let three = Uint::<3>::BYTES;
            check(
                Uint::<3>::from_be_slice(&m[..three]),
                Uint::<3>::from_be_slice(&x[..three]),
                Uint::<3>::from_be_slice(&y[..three]),
            )?;
            check(Uint::<5>::from_be_slice(&m), Uint::<5>::from_be_slice(&x), Uint::<5>::from_be_slice(&y))?;
            check(Uint::<1>::from_be_slice(&m[..Uint::<1>::BYTES]),
                  Uint::<1>::from_be_slice(&x[..Uint::<1>::BYTES]),
                  Uint::<1>::from_be_slice(&y[..Uint::<1>::BYTES]))?;
        }

        #[test]
        fn agrees_with_crypto_bigint_2048(
            m in proptest::collection::vec(any::<u8>(), 256),
            x in proptest::collection::vec(any::<u8>(), 256),
            y in proptest::collection::vec(any::<u8>(), 256),
        ) {
            check(U2048::from_be_slice(&m), U2048::from_be_slice(&x), U2048::from_be_slice(&y))?;
        }
    }
}
