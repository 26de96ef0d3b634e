//! Integration tests of the ATT&CK knowledge base on the real Enterprise bundle and the
//! SigmaHQ rules of the shared corpus.
#![allow(clippy::unwrap_used)] // Test helpers fail loudly; that is their job.

mod bundle;
mod layer;
mod tags;
