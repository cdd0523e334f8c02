"""Valid keys at a key path, and the closest one to a misspelt key."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel


def closest_key(key: str, valid: list[str]) -> str | None:
    """The valid key most like ``key``, or None when nothing is close."""
    matches = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    return matches[0] if matches else None


def fields_at(root: type[BaseModel], path: list[str], data: Any) -> list[str]:
    """The field names of the model found at ``path`` inside the file's data, or []."""
    annotation: Any = root
    node = data
    for part in path:
        annotation = _select_variant(annotation, node)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(part)
            if field is None:
                return []
            annotation = field.annotation
        elif get_origin(_unwrap(annotation)) in (dict, list):
            annotation = get_args(_unwrap(annotation))[-1]
        else:
            return []
        node = node.get(part) if isinstance(node, dict) else _index(node, part)
    annotation = _select_variant(annotation, node)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    while get_origin(annotation) is typing.Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _select_variant(annotation: Any, node: Any) -> Any:
    """Resolve Optional and discriminated unions against the data present at this point."""
    annotation = _unwrap(annotation)
    if get_origin(annotation) not in (Union, types.UnionType):
        return annotation
    variants = [_unwrap(a) for a in get_args(annotation) if a is not type(None)]
    models = [v for v in variants if isinstance(v, type) and issubclass(v, BaseModel)]
    for model in models:
        if _matches_tag(model, node):
            return model
    return models[0] if len(models) == 1 else (variants[0] if len(variants) == 1 else None)


def _matches_tag(model: type[BaseModel], node: Any) -> bool:
    if not isinstance(node, dict):
        return False
    for tag in ("transport", "type"):
        field = model.model_fields.get(tag)
        if field is not None and get_origin(field.annotation) is Literal:
            return node.get(tag) in get_args(field.annotation)
    return False


def _index(node: Any, part: str) -> Any:
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return node[int(part)]
    return None
