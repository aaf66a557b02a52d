//! Integration tests: a real private Docker Engine, real containers, the real binary.

mod engine;
