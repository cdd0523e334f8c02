"""Sign-in tables (SQLAlchemy 2 typed models) and their queries, one table per module."""
