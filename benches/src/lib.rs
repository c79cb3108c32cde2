//! Shared helpers for the benches and the load generator (filled in by later issues).
