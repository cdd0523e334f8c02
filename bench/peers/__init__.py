"""Peer gateways in the benchmark: FastMCP's proxy, mcp-proxy, supergateway and ContextForge.

One module per peer (install on demand, start in front of the harness's echo, stop);
``cells.peer_cells`` times them for ``bench/run.py`` and ``report`` writes their part of the results.
"""

from bench.peers.cells import PEERS, peer_cells
from bench.peers.report import ahead_of_peers, peer_report

__all__ = ["PEERS", "ahead_of_peers", "peer_cells", "peer_report"]
