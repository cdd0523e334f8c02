"""Micro-benchmark of decoding a JSON-RPC body: ``python -m bench.json_envelope``.

Every client POST is decoded once by ``proxy.wire.jsonrpc.decode_json``. Refusing duplicate keys
(issue #15 finding 9) needs the object members in order, which only ``object_pairs_hook`` gives
from the standard library's C scanner. Timed here, best of 15 repeats, in µs per body:

- ``loads(bytes)``: the old decoder (encoding sniffed, lone surrogates let through, last key wins);
- ``loads(str)``: strict UTF-8 first, otherwise the same;
- ``loads(str, hook)``: ``json.loads`` with ``object_pairs_hook`` (builds a decoder per call);
- ``decoder.decode(str)``: one prebuilt ``JSONDecoder`` with the hook (what Portico uses);
- ``decode_json``: Portico's function as shipped.
"""

from __future__ import annotations

import json
import timeit
from collections.abc import Callable
from typing import Any

from proxy.wire.jsonrpc import decode_json

REPEATS = 15


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate key")
    return result


_DECODER = json.JSONDecoder(object_pairs_hook=_unique)


def _bodies() -> dict[str, bytes]:
    meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}
    small = {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "echo", "arguments": {"text": "hi"}}}
    small["params"]["_meta"] = meta  # type: ignore[index]
    rows = [{"id": i, "title": f"row {i}", "tags": ["a", "b"], "done": i % 2 == 0} for i in range(40)]
    medium = {**small, "params": {"name": "import", "arguments": {"rows": rows}, "_meta": meta}}
    text = "x" * 200_000
    large_text = {**small, "params": {"name": "write", "arguments": {"content": text}, "_meta": meta}}
    many = [{"k": i, "v": str(i)} for i in range(4_000)]
    large_objects = {**small, "params": {"name": "bulk", "arguments": {"items": many}, "_meta": meta}}
    return {
        "tools/call, 1 KB": json.dumps(small).encode(),
        "40 objects, 4 KB": json.dumps(medium).encode(),
        "one 200 KB string": json.dumps(large_text).encode(),
        "4,000 objects, 110 KB": json.dumps(large_objects).encode(),
    }


def _time(function: Callable[[], object], calls: int) -> float:
    return min(timeit.repeat(function, number=calls, repeat=REPEATS)) / calls * 1e6


def main() -> None:
    columns = ("loads(bytes)", "loads(str)", "loads(str, hook)", "decoder.decode(str)", "decode_json")
    print("| body | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for name, body in _bodies().items():
        calls = max(20, 200_000 // len(body))
        row = [
            _time(lambda body=body: json.loads(body), calls),  # type: ignore[misc]
            _time(lambda body=body: json.loads(body.decode("utf-8")), calls),  # type: ignore[misc]
            _time(lambda body=body: json.loads(body.decode("utf-8"), object_pairs_hook=_unique), calls),  # type: ignore[misc]
            _time(lambda body=body: _DECODER.decode(body.decode("utf-8")), calls),  # type: ignore[misc]
            _time(lambda body=body: decode_json(body), calls),  # type: ignore[misc]
        ]
        print(f"| {name} | " + " | ".join(f"{value:.2f}" for value in row) + " |")


if __name__ == "__main__":
    main()
