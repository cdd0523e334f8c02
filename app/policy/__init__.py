"""Access policy: who may use which server, tool, resource and prompt (docs/policy.md)."""
