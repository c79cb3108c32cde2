//! Why an input value was refused: the one error type every validating module shares
//! (kept apart from `error` so low-level modules need nothing else).

/// Why a value was refused; `field` names the input field in the wire contract.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct InvalidInput {
    /// The wire name of the offending field.
    pub field: &'static str,
    /// What is wrong with it.
    pub problem: String,
}

impl InvalidInput {
    /// Builds a validation error for `field`.
    pub fn new(field: &'static str, problem: impl Into<String>) -> Self {
        Self {
            field,
            problem: problem.into(),
        }
    }
}
