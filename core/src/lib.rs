#![doc = include_str!("../README.md")]
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::unreachable
    )
)]

#[cfg(feature = "rsa")]
extern crate alloc;
#[cfg(test)]
#[macro_use]
extern crate std;

pub mod api;
pub mod api_error;
pub mod base64;
pub mod call;
#[cfg(feature = "callback")]
#[cfg_attr(docsrs, doc(cfg(feature = "callback")))]
pub mod callback;
#[cfg(feature = "certificates")]
#[cfg_attr(docsrs, doc(cfg(feature = "certificates")))]
pub mod certificate;
pub mod client;
pub mod crypto;
pub mod error;
pub mod json;
mod logging;
#[macro_use]
pub mod model;
pub mod nonce;
pub mod path;
pub mod sign;
pub mod time;
pub mod transport;
pub mod verify;
mod writer;

pub use api::permissions::{AuthorizationRecord, AuthorizationState};
pub use api_error::{ApiError, ErrorCode};
pub use call::{Call, NoContent, Success};
pub use client::{Client, ClientError, Clock, RequestId, VerifiedResponse, check_response};
#[cfg(feature = "defmt")]
#[doc(hidden)]
pub use defmt as __defmt;
pub use error::{Error, ParseError, Problem, VerifyError};
/// The fixed-capacity strings and vectors of the public types (record fields are
/// `heapless::String`), re-exported so callers use the same version.
pub use heapless;
pub use nonce::{Nonce, RandomSource};
pub use path::TargetBuilder;
#[cfg(feature = "serde")]
#[doc(hidden)]
pub use serde as __serde;
pub use sign::Signer;
pub use transport::{AsyncTransport, Method, Request, ResponseHead, ResponseHeaders, Transport};
pub use verify::{PlatformKeys, Verifier};
