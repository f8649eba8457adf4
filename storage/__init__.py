"""Storage: the schema, migrations and queries on SQLite or PostgreSQL."""
