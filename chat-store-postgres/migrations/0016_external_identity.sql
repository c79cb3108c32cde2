-- Agents and visitors the host application signs in: an agent is keyed by the host's id
-- for it and remembers when the host's sign-in it follows was issued (an older one changes
-- nothing); a visitor keeps the name the host knows it by (its host id is `identifier`).
ALTER TABLE admins ADD COLUMN external_id text UNIQUE;
ALTER TABLE admins ADD COLUMN host_synced_at timestamptz;
ALTER TABLE customers ADD COLUMN name text;
