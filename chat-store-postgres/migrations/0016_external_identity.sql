-- Agents and visitors the host application signs in: an agent is keyed by the host's id
-- for it, and a visitor keeps the name the host knows it by (its host id is `identifier`).
ALTER TABLE admins ADD COLUMN external_id text UNIQUE;
ALTER TABLE customers ADD COLUMN name text;
