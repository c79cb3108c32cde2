//! Model-based testing: random operation sequences (placeholder, filled in below).
