"""The data plane's tables (read off the hot path only)."""
