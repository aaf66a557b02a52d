//! Integration tests (added with the collectors).
