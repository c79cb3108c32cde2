//! The workspace's harness for test targets that need a service (`harness = false`, on
//! libtest-mimic). Each target lists its tests with what they need; a test whose service
//! is missing is **ignored, with the reason**, in the summary cargo prints, never passed:
//!
//! ```no_run
//! async fn stores_and_reads(database_url: String) { /* … */ }
//!
//! fn main() {
//!     testkit::Suite::new()
//!         .postgres("stores_and_reads", stores_and_reads)
//!         .run();
//! }
//! ```
//!
//! Services are found where a default install has them: PostgreSQL at `DATABASE_URL`, or
//! else `postgres://postgres@127.0.0.1:5432/postgres` when a sign-in there succeeds;
//! `nats-server` on the `PATH` (tests start their own); root for mounting file systems;
//! `strace`; Python's `aiosmtpd`. With `TESTKIT_REQUIRE_SERVICES=1` (CI), a missing service
//! fails its tests instead. Services are looked up when a test that needs them runs, so
//! listing tests checks nothing.

mod services;

use std::future::Future;
use std::pin::Pin;

use libtest_mimic::{Arguments, Completion, Failed, Trial};

pub use services::{Found, Needs, postgres};

/// A test's body.
pub type Body = Pin<Box<dyn Future<Output = ()> + Send>>;
/// A named suite's test, ready to run.
pub type Scenario = Box<dyn FnOnce() -> Body + Send>;

/// The tests of one target.
#[derive(Default)]
pub struct Suite {
    trials: Vec<Trial>,
}

impl Suite {
    /// An empty suite.
    pub fn new() -> Self {
        Self::default()
    }

    /// A test that needs nothing but a runtime.
    pub fn test<F, Fut>(&mut self, name: &str, test: F) -> &mut Self
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.add(name, &[], move |_| test())
    }

    /// A test that needs PostgreSQL: it gets the server's URL.
    pub fn postgres<F, Fut>(&mut self, name: &str, test: F) -> &mut Self
    where
        F: FnOnce(String) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.add(name, &[Needs::Postgres], move |found| {
            test(found.database_url.unwrap_or_default())
        })
    }

    /// A test that needs `needs`, on a runtime of its own; it gets what was found.
    pub fn add<F, Fut>(&mut self, name: &str, needs: &[Needs], test: F) -> &mut Self
    where
        F: FnOnce(Found) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.blocking_with(name, needs, move |found| run(test(found)))
    }

    /// A test that needs `needs` and runs no runtime of its own (it may build one).
    pub fn blocking<F>(&mut self, name: &str, needs: &[Needs], test: F) -> &mut Self
    where
        F: FnOnce() + Send + 'static,
    {
        self.blocking_with(name, needs, move |_| test())
    }

    /// Several named bodies that all need `needs`: a shared suite, such as
    /// `chat_core::conformance_scenarios!`.
    pub fn each(&mut self, needs: &[Needs], tests: Vec<(String, Scenario)>) -> &mut Self {
        for (name, test) in tests {
            self.add(&name, needs, move |_| test());
        }
        self
    }

    /// Runs the tests cargo's arguments select, prints libtest's summary, and exits.
    pub fn run(&mut self) -> ! {
        let arguments = Arguments::from_args();
        libtest_mimic::run(&arguments, std::mem::take(&mut self.trials)).exit()
    }

    fn blocking_with<F>(&mut self, name: &str, needs: &[Needs], test: F) -> &mut Self
    where
        F: FnOnce(Found) + Send + 'static,
    {
        let needs = needs.to_vec();
        self.trials.push(Trial::ignorable_test(name, move || {
            match services::find(&needs) {
                Err(reason) => missing(reason),
                Ok(found) => {
                    test(found);
                    Ok(Completion::Completed)
                }
            }
        }));
        self
    }
}

/// Runs a test body on a runtime of its own, as `#[tokio::test(flavor = "multi_thread",
/// worker_threads = 2)]` would. A panic fails the test.
fn run(body: impl Future<Output = ()> + Send + 'static) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(body);
}

/// A test whose service is missing: ignored with the reason, or, where services are
/// required (`TESTKIT_REQUIRE_SERVICES=1`, as in CI), failed.
fn missing(reason: String) -> Result<Completion, Failed> {
    if services::required() {
        Err(Failed::from(format!(
            "{reason} (TESTKIT_REQUIRE_SERVICES=1)"
        )))
    } else {
        Ok(Completion::ignored_with(reason))
    }
}
