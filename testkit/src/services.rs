//! Where the services tests need are, or why they are missing (the reason an ignored test
//! shows). Looked up once per test target.

use std::net::{TcpStream, ToSocketAddrs};
use std::sync::OnceLock;
use std::time::Duration;

/// Where PostgreSQL is looked for when `DATABASE_URL` is not set.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A service a test needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// A PostgreSQL server it may create databases on.
    Postgres,
    /// The `nats-server` binary (the test starts its own servers).
    NatsServer,
    /// Root, to mount file systems.
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
            Needs::Strace => runs(
                "strace",
                &["-f", "-o", "/dev/null", "true"],
                "needs strace, allowed to trace here",
            )?,
            Needs::Aiosmtpd => runs(
                "python3",
                &["-c", "import aiosmtpd"],
                "needs Python's aiosmtpd (pip install aiosmtpd)",
            )?,
        }
    }
    Ok(found)
}

/// PostgreSQL's URL: `DATABASE_URL`, or the default install's when it answers.
pub fn postgres() -> Result<String, String> {
    static FOUND: OnceLock<Result<String, String>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            let (url, from) = match std::env::var("DATABASE_URL") {
                Ok(url) if !url.is_empty() => (url, "from DATABASE_URL"),
                _ => (
                    DEFAULT_DATABASE_URL.to_owned(),
                    "the default; set DATABASE_URL",
                ),
            };
            let address = host_port(&url).ok_or_else(|| {
                "needs PostgreSQL: DATABASE_URL is not a postgres:// URL with a host".to_owned()
            })?;
            if answers(&address) {
                Ok(url)
            } else {
                Err(format!(
                    "needs PostgreSQL: nothing answers at {address} ({from})"
                ))
            }
        })
        .clone()
}

/// Whether the `nats-server` binary runs here.
pub fn nats_server() -> Result<(), String> {
    static FOUND: OnceLock<Result<(), String>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            let version = std::process::Command::new("nats-server")
                .arg("--version")
                .output();
            match version {
                Ok(output) if output.status.success() => Ok(()),
                _ => Err("needs nats-server on the PATH".to_owned()),
            }
        })
        .clone()
}

/// Whether `program args` runs and succeeds; else `missing`.
fn runs(program: &str, args: &[&str], missing: &str) -> Result<(), String> {
    let status = std::process::Command::new(program)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    if status.is_ok_and(|status| status.success()) {
        Ok(())
    } else {
        Err(missing.to_owned())
    }
}

/// Whether this process may mount a small tmpfs (root, with the capability to mount).
pub fn root() -> Result<(), String> {
    static FOUND: OnceLock<Result<(), String>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            let point = std::env::temp_dir().join(format!("testkit-mount-{}", std::process::id()));
            std::fs::create_dir_all(&point).map_err(|error| error.to_string())?;
            let mounted = runs(
                "mount",
                &[
                    "-t",
                    "tmpfs",
                    "-o",
                    "size=64k",
                    "tmpfs",
                    &point.to_string_lossy(),
                ],
                "needs root, allowed to mount a small tmpfs",
            );
            if mounted.is_ok() {
                let _ = runs("umount", &[&point.to_string_lossy()], "");
            }
            let _ = std::fs::remove_dir(&point);
            mounted
        })
        .clone()
}

/// `host:port` of a `postgres://user@host:port/db` URL (port 5432 when absent).
fn host_port(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))?;
    let authority = rest.split(['/', '?']).next()?;
    let host_port = authority.rsplit('@').next()?;
    if host_port.is_empty() {
        return None;
    }
    if host_port.contains(':') && !host_port.ends_with(']') {
        Some(host_port.to_owned())
    } else {
        Some(format!("{host_port}:5432"))
    }
}

/// Whether something accepts a TCP connection at `address` within a second.
fn answers(address: &str) -> bool {
    let Ok(addresses) = address.to_socket_addrs() else {
        return false;
    };
    addresses
        .into_iter()
        .any(|socket| TcpStream::connect_timeout(&socket, Duration::from_secs(1)).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_port_come_from_the_url() {
        assert_eq!(
            host_port("postgres://postgres@127.0.0.1:5432/test").as_deref(),
            Some("127.0.0.1:5432")
        );
        assert_eq!(
            host_port("postgresql://u:p@db/chat?sslmode=disable").as_deref(),
            Some("db:5432")
        );
        assert_eq!(host_port("postgres:///chat"), None);
        assert_eq!(host_port("mysql://db/chat"), None);
    }
}
