"""Configuration: the YAML schema and its loader."""

from app.config.errors import ConfigError
from app.config.loader import load_config
from app.config.schema import PorticoConfig

__all__ = ["ConfigError", "PorticoConfig", "load_config"]
