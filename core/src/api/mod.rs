//! One module per API family: request targets (and bodies) and the typed results.

pub mod permissions;
pub mod serviceorder;
