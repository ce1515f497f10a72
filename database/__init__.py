"""SQL on either backend (SQLite, PostgreSQL): one placeholder adapter, and the store's own
database for the tables kept beside its events."""
