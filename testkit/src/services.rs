//! Where the services tests need are, or why they are missing (the reason an ignored test
//! shows). Each is looked up once per test target, when a test that needs it runs.
//!
//! With `TESTKIT_REQUIRE_SERVICES=1` (set by `.ci/run`, which provides every service), a
//! missing service fails the test instead.

use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use sqlx::Connection;

/// Where PostgreSQL is looked for when `DATABASE_URL` is not set.
const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A service a test needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// A PostgreSQL server it may sign in to and create databases on (and the `psql`
    /// client).
    Postgres,
    /// The `nats-server` binary (the test starts its own servers).
    NatsServer,
    /// Root, allowed to mount a small tmpfs (and to trace other users' processes).
    Root,
    /// `strace`, allowed to trace here.
    Strace,
    /// Python's `aiosmtpd` (a real SMTP server the test starts).
    Aiosmtpd,
}

/// What was found for a test.
#[derive(Debug, Clone, Default)]
pub struct Found {
    /// The PostgreSQL server's URL, when the test needs it.
    pub database_url: Option<String>,
}

/// Finds every service in `needs`, or says which is missing and why.
pub fn find(needs: &[Needs]) -> Result<Found, String> {
    let mut found = Found::default();
    for need in needs {
        match need {
            Needs::Postgres => found.database_url = Some(postgres()?),
            Needs::NatsServer => nats_server()?,
            Needs::Root => root()?,
            Needs::Strace => strace()?,
            Needs::Aiosmtpd => aiosmtpd()?,
        }
    }
    Ok(found)
}

/// Whether a missing service fails tests instead of having them ignored.
pub fn required() -> bool {
    std::env::var("TESTKIT_REQUIRE_SERVICES").is_ok_and(|value| value == "1")
}

/// PostgreSQL's URL: `DATABASE_URL`, or the default install's, once a sign-in there
/// succeeds.
pub fn postgres() -> Result<String, String> {
    static FOUND: OnceLock<Result<String, String>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            runs("psql", &["--version"], "needs PostgreSQL's psql client")?;
            let (url, from) = match std::env::var("DATABASE_URL") {
                Ok(url) if !url.is_empty() => (url, "DATABASE_URL"),
                _ => (
                    DEFAULT_DATABASE_URL.to_owned(),
                    "the default; set DATABASE_URL",
                ),
            };
            match signs_in(&url) {
                Ok(()) => Ok(url),
                Err(error) => Err(format!(
                    "needs PostgreSQL: {} ({from}): {error}",
                    without_password(&url)
                )),
            }
        })
        .clone()
}

/// Whether the `nats-server` binary runs here.
fn nats_server() -> Result<(), String> {
    static FOUND: OnceLock<Result<(), String>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            runs(
                "nats-server",
                &["--version"],
                "needs nats-server on the PATH",
            )
        })
        .clone()
}

/// Whether `strace` may trace here.
fn strace() -> Result<(), String> {
    static FOUND: OnceLock<Result<(), String>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            let args = ["-f", "-o", "/dev/null", "true"];
            runs("strace", &args, "needs strace, allowed to trace here")
        })
        .clone()
}

/// Whether Python's `aiosmtpd` is installed.
fn aiosmtpd() -> Result<(), String> {
    static FOUND: OnceLock<Result<(), String>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            let args = ["-c", "import aiosmtpd"];
            runs(
                "python3",
                &args,
                "needs Python's aiosmtpd (pip install aiosmtpd)",
            )
        })
        .clone()
}

/// Whether this process may mount a small tmpfs (root, with the capability to mount).
fn root() -> Result<(), String> {
    static FOUND: OnceLock<Result<(), String>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            let missing = "needs root, allowed to mount a small tmpfs";
            let point = tempdir().map_err(|error| format!("{missing} ({error})"))?;
            let point = point.to_string_lossy().into_owned();
            let mounted = runs(
                "mount",
                &["-t", "tmpfs", "-o", "size=64k", "tmpfs", &point],
                missing,
            );
            if mounted.is_ok() {
                let _ = runs("umount", &[&point], "");
            }
            let _ = std::fs::remove_dir(&point);
            mounted
        })
        .clone()
}

/// A new empty directory for the mount check.
fn tempdir() -> std::io::Result<std::path::PathBuf> {
    let point = std::env::temp_dir().join(format!("testkit-mount-{}", std::process::id()));
    std::fs::create_dir_all(&point)?;
    Ok(point)
}

/// Whether `program args` runs and succeeds; else `missing`.
fn runs(program: &str, args: &[&str], missing: &str) -> Result<(), String> {
    let status = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if status.is_ok_and(|status| status.success()) {
        Ok(())
    } else {
        Err(missing.to_owned())
    }
}

/// `url` with its password, if any, replaced by `***` (it ends up in test output).
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user_info, host)) if user_info.contains(':') => {
            let user = user_info.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}{path}")
        }
        _ => url.to_owned(),
    }
}

/// Signs in to `url` within a few seconds.
fn signs_in(url: &str) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| error.to_string())?;
    runtime.block_on(async {
        let connect = sqlx::PgConnection::connect(url);
        match tokio::time::timeout(Duration::from_secs(5), connect).await {
            Ok(Ok(connection)) => {
                let _ = connection.close().await;
                Ok(())
            }
            Ok(Err(error)) => Err(error.to_string()),
            Err(_) => Err("no answer within 5 s".to_owned()),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_the_reason() {
        assert_eq!(
            without_password("postgres://chat:s3cret@db:5432/chat?sslmode=require"),
            "postgres://chat:***@db:5432/chat?sslmode=require"
        );
        assert_eq!(
            without_password("postgres://postgres@127.0.0.1:5432/test"),
            "postgres://postgres@127.0.0.1:5432/test"
        );
    }
}
