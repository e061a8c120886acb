//! End-to-end unit tests.
