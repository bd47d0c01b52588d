//! Integration tests: the public API as a user would use it, properties, the CLI.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod api;
mod borrowed;
#[path = "../support/cases.rs"]
mod cases;
#[cfg(feature = "cli")]
mod cli;
mod fidelity;
mod hostile;
mod json;
mod jsonapi;
mod layout;
mod network;
#[cfg(feature = "cli")]
mod newuser;
mod properties;
mod reach;
#[cfg(feature = "cli")]
mod readme;
mod regressions;
#[cfg(feature = "cli")]
mod streams;
#[cfg(feature = "cli")]
mod whatif;
