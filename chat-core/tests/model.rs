//! Property test: random operation sequences through the engine over `MemoryStore`, checked
//! against the invariants of the design (see `chat_core::conformance::model`).

use chat_core::conformance::model::{MemoryBackend, check_ops, ops};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn engine_invariants_hold_for_random_operation_sequences(ops in ops(40)) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        runtime.block_on(check_ops(&mut MemoryBackend::default(), &ops));
    }
}
