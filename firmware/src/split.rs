//! The stack of a query inside and outside its RSA operations, for the variants whose query
//! is one client call over a wire (`uart_query`, `tls_query`): the signer and verifier are
//! wrapped so that each RSA operation first closes the stretch outside RSA (its high-water
//! mark), and the stack is repainted after it. The probes' own instructions are counted, so
//! a caller can leave them out of its instruction count.

use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use wxpay_core::sign::{SIGNATURE_LEN, Sha256Digest, Signer};
use wxpay_core::verify::Verifier;

use crate::{meter, stack};

/// Deepest stack of the stretches outside RSA.
static OUTSIDE_RSA: AtomicUsize = AtomicUsize::new(0);
/// Deepest stack of the stretches that end with an RSA operation.
static WITH_RSA: AtomicUsize = AtomicUsize::new(0);
/// Instructions spent in these probes.
static PROBES: AtomicU32 = AtomicU32::new(0);

/// The high-water marks recorded so far, in bytes from the stack top.
#[derive(Debug, Clone, Copy)]
pub struct Stacks {
    /// Outside RSA: everything of the query but its sign and verify.
    pub outside_rsa: usize,
    /// The stretches that include an RSA operation.
    pub with_rsa: usize,
}

/// The marks so far.
pub fn stacks() -> Stacks {
    Stacks {
        outside_rsa: OUTSIDE_RSA.load(Ordering::Relaxed),
        with_rsa: WITH_RSA.load(Ordering::Relaxed),
    }
}

/// Instructions the probes took so far.
pub fn probes() -> u64 {
    u64::from(PROBES.load(Ordering::Relaxed))
}

fn probe(record: impl FnOnce()) {
    let start = meter::now();
    record();
    let spent = u32::try_from(meter::now().saturating_sub(start)).unwrap_or(u32::MAX);
    PROBES.fetch_add(spent, Ordering::Relaxed);
}

/// Ends a stretch outside RSA: before an RSA operation, and at the end of the query (the
/// stack must have been painted at its start).
pub fn outside_rsa_ends() {
    probe(|| {
        OUTSIDE_RSA.fetch_max(stack::high_water(), Ordering::Relaxed);
    });
}

/// Ends an RSA operation: its stretch's high-water mark, then a fresh stretch.
fn rsa_ends() {
    probe(|| {
        WITH_RSA.fetch_max(stack::high_water(), Ordering::Relaxed);
        stack::paint();
    });
}

/// A signer whose RSA operation is kept out of the outside-RSA stretches.
#[derive(Debug)]
pub struct SplitSigner<S>(pub S);

impl<S: Signer> Signer for SplitSigner<S> {
    type Error = S::Error;
    fn serial_no(&self) -> &str {
        self.0.serial_no()
    }
    fn sign_prehash(
        &mut self,
        digest: &Sha256Digest,
        out: &mut [u8; SIGNATURE_LEN],
    ) -> Result<(), S::Error> {
        outside_rsa_ends();
        let signed = self.0.sign_prehash(digest, out);
        rsa_ends();
        signed
    }
}

/// A verifier whose RSA operation is kept out of the outside-RSA stretches.
#[derive(Debug)]
pub struct SplitVerifier<V: 'static>(pub &'static V);

impl<V: Verifier> Verifier for SplitVerifier<V> {
    fn verify_prehash(&self, digest: &Sha256Digest, signature: &[u8; SIGNATURE_LEN]) -> bool {
        outside_rsa_ends();
        let valid = self.0.verify_prehash(digest, signature);
        rsa_ends();
        valid
    }
}
