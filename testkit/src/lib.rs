//! The workspace's harness for test targets that need a service (`harness = false`, on
//! libtest-mimic). Each target lists its tests with what they need; a test whose service
//! is missing is **ignored, with the reason**, in the summary cargo prints, never passed:
//!
//! ```no_run
//! use testkit::{Needs, Suite};
//!
//! async fn stores_and_reads(database_url: String) { /* … */ }
//!
//! fn main() {
//!     let mut suite = Suite::new();
//!     suite.postgres("stores_and_reads", stores_and_reads);
//!     suite.run();
//! }
//! ```
//!
//! Services are found where a default install has them: PostgreSQL at `DATABASE_URL`, or
//! else `postgres://postgres@127.0.0.1:5432/postgres` when it answers; `nats-server` on the
//! `PATH` (tests start their own); root for mounting file systems.

mod services;

use std::future::Future;
use std::pin::Pin;

use libtest_mimic::{Arguments, Completion, Failed, Trial};

pub use services::{DEFAULT_DATABASE_URL, Found, Needs, nats_server, postgres, root};

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

    /// A test that needs `needs`; it gets what was found.
    pub fn add<F, Fut>(&mut self, name: &str, needs: &[Needs], test: F) -> &mut Self
    where
        F: FnOnce(services::Found) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let found = services::find(needs);
        let trial = Trial::ignorable_test(name, move || match found {
            Err(reason) => Ok(Completion::ignored_with(reason)),
            Ok(found) => {
                run(test(found));
                Ok(Completion::Completed)
            }
        });
        self.trials.push(trial);
        self
    }

    /// A test that needs `needs` and runs no runtime of its own (it may build one).
    pub fn blocking<F>(&mut self, name: &str, needs: &[Needs], test: F) -> &mut Self
    where
        F: FnOnce() + Send + 'static,
    {
        let found = services::find(needs);
        self.trials
            .push(Trial::ignorable_test(name, move || match found {
                Err(reason) => Ok(Completion::ignored_with(reason)),
                Ok(_) => {
                    test();
                    Ok(Completion::Completed)
                }
            }));
        self
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

/// A failure with a message (for trials that check rather than panic).
pub fn failed(message: impl Into<String>) -> Failed {
    Failed::from(message.into())
}
