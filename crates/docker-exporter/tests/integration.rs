//! Integration tests: a real private Docker Engine, real containers, the real binary.
//! (One test binary: the modules live under `tests/integration/`, so cargo does not build
//! each as a test of its own.)

mod integration {
    mod engine;
}
