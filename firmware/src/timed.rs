//! Wrappers that record each phase of a query on a [`Meter`] as the real client runs: the
//! client itself is unchanged, its signer, verifier, transport and clock are wrapped.

use wxpay_core::Clock;
use wxpay_core::sign::{SIGNATURE_LEN, Sha256Digest, Signer};
use wxpay_core::transport::{Request, ResponseHead, Transport};
use wxpay_core::verify::Verifier;

use crate::meter::{Event, Meter};

/// A [`Signer`] whose calls are recorded.
#[derive(Debug)]
pub struct TimedSigner<'m, S> {
    /// The real signer.
    pub inner: S,
    /// Where events go.
    pub meter: &'m Meter,
}

impl<S: Signer> Signer for TimedSigner<'_, S> {
    type Error = S::Error;
    fn serial_no(&self) -> &str {
        self.inner.serial_no()
    }
    fn sign_prehash(
        &mut self,
        digest: &Sha256Digest,
        out: &mut [u8; SIGNATURE_LEN],
    ) -> Result<(), S::Error> {
        self.meter.mark(Event::SignStart);
        let signed = self.inner.sign_prehash(digest, out);
        self.meter.mark(Event::SignEnd);
        signed
    }
}

/// A [`Verifier`] whose calls are recorded.
#[derive(Debug)]
pub struct TimedVerifier<'m, V> {
    /// The real verifier.
    pub inner: V,
    /// Where events go.
    pub meter: &'m Meter,
}

impl<V: Verifier> Verifier for TimedVerifier<'_, V> {
    fn verify_prehash(&self, digest: &Sha256Digest, signature: &[u8; SIGNATURE_LEN]) -> bool {
        self.meter.mark(Event::VerifyStart);
        let valid = self.inner.verify_prehash(digest, signature);
        self.meter.mark(Event::VerifyEnd);
        valid
    }
}

/// A [`Transport`] whose calls are recorded.
#[derive(Debug)]
pub struct TimedTransport<'m, T> {
    /// The real transport.
    pub inner: T,
    /// Where events go.
    pub meter: &'m Meter,
}

impl<T: Transport> Transport for TimedTransport<'_, T> {
    type Error = T::Error;
    // Forwarded, so that a body larger than the buffer stays `ClientError::ResponseTooLarge`.
    fn body_too_large(error: &T::Error) -> bool {
        T::body_too_large(error)
    }
    fn execute(
        &mut self,
        request: &Request<'_>,
        response_body: &mut [u8],
    ) -> Result<ResponseHead, T::Error> {
        self.meter.mark(Event::TransportStart);
        let head = self.inner.execute(request, response_body);
        self.meter.mark(Event::TransportEnd);
        head
    }
}

/// A [`Clock`] whose reads are recorded.
#[derive(Debug)]
pub struct TimedClock<'m, C> {
    /// The real clock.
    pub inner: C,
    /// Where events go.
    pub meter: &'m Meter,
}

impl<C: Clock> Clock for TimedClock<'_, C> {
    fn unix_seconds(&self) -> i64 {
        self.meter.mark(Event::Clock);
        self.inner.unix_seconds()
    }
}
