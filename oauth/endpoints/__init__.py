"""The authorization server's HTTP endpoints, one per module; each module exposes an ``APIRouter`` named ``router``."""
