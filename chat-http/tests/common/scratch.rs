//! A scratch PostgreSQL database per test, dropped with its value (through `psql`).

use std::process::Command;

/// A scratch database on the server of `url`, dropped with the value.
pub struct ScratchDatabase {
    admin_url: String,
    /// Its name.
    pub name: String,
    /// Its URL.
    pub url: String,
}

impl ScratchDatabase {
    /// Creates `name` (dropping a leftover of that name first).
    pub fn create(admin_url: &str, name: &str) -> Self {
        let database = Self {
            admin_url: admin_url.to_owned(),
            name: name.to_owned(),
            url: format!(
                "{}/{name}",
                admin_url
                    .rsplit_once('/')
                    .map_or(admin_url, |(base, _)| base)
            ),
        };
        assert!(database.psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")));
        assert!(database.psql(&format!("CREATE DATABASE {name}")));
        database
    }

    /// Runs `sql` on the server (connected to the admin database); whether it succeeded.
    pub fn psql(&self, sql: &str) -> bool {
        Command::new("psql")
            .arg(&self.admin_url)
            .args(["-qc", sql])
            .status()
            .expect("psql")
            .success()
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        self.psql(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ));
    }
}
