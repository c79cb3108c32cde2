# ensure_postgres: PostgreSQL at 127.0.0.1:5432 (started, or installed with apt-get), trust
# auth on loopback, a `test` database; exports DATABASE_URL. Sourced by .ci/run and
# benches/run.sh (expects a `log` function).

# PostgreSQL at 127.0.0.1:5432 with trust auth and a `test` database; exports DATABASE_URL.
ensure_postgres() {
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    log "installing PostgreSQL"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  local hba="/etc/postgresql/$version/main/pg_hba.conf"
  if ! grep -qE '^host\s+all\s+all\s+127\.0\.0\.1/32\s+trust' "$hba"; then
    # A fresh install asks for passwords on TCP; the tests use trust auth on loopback only.
    sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
    pg_ctlcluster --skip-systemctl-redirect "$version" main reload 2>/dev/null || true
  fi
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    log "starting PostgreSQL $version"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
  fi
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  if ! psql -h 127.0.0.1 -U postgres -lqt | cut -d'|' -f1 | grep -qw test; then
    psql -h 127.0.0.1 -U postgres -qc 'CREATE DATABASE test'
  fi
  export DATABASE_URL="postgres://postgres@127.0.0.1:5432/test"
  log "PostgreSQL ready: $DATABASE_URL"
}
