//! The parts of the benchmark harness that tests reach: the seed.
#![forbid(unsafe_code)]

pub mod seed;
