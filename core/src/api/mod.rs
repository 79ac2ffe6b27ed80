//! One module per API family: request targets (and bodies) and the typed results.

#[cfg(feature = "certificates")]
#[cfg_attr(docsrs, doc(cfg(feature = "certificates")))]
pub mod certificates;
pub mod permissions;
pub mod serviceorder;
