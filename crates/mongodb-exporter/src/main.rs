//! `vigie-mongodb-exporter` (work in progress: the naming engine lives in the library).

#![forbid(unsafe_code)]

fn main() {}
