//! Shared helpers for the benches and the load generator (the load generator arrives with its issue).
