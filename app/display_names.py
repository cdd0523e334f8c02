"""Names that a client chooses and Portico shows to users (``client_name``, RFC 7591 §2).

A name must not be able to rearrange or hide text around it, nor pass for another name:

- refused: control characters (Cc), format characters (Cf: bidi overrides and isolates such as
  U+202E, zero-width characters, the BOM), surrogates, private-use and unassigned code points,
  line/paragraph separators and spaces other than U+0020 (Unicode TR #9 §2; UTS #39 §3.1);
- refused: letters that are compatibility variants of other letters (fullwidth, mathematical
  alphanumerics, ligatures: their NFKC form differs), and letters from several scripts outside
  the combinations UTS #39 §5.2 "Highly Restrictive" allows (Latin with Han and Hiragana/Katakana,
  Bopomofo or Hangul), e.g. a Cyrillic "С" inside a Latin "Сlaude".

:func:`neutral_display_name` is the rendering-side safety net for names stored before these
rules: it replaces every refused character with U+FFFD.
"""

from __future__ import annotations

import unicodedata

MAX_LENGTH = 200
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_CJK_COMPANIONS = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)


def display_name_problem(name: object, *, max_length: int = MAX_LENGTH) -> str | None:
    """Why ``name`` may not be shown to users as a client's name, or None. The reason never repeats it."""
    if not isinstance(name, str) or not 0 < len(name) <= max_length:
        return f"must be a string of 1 to {max_length} characters"
    if name != name.strip():
        return "must not start or end with spaces"
    if any(_is_hidden(character) for character in name):
        return "must not contain control, format (bidi, zero-width) or separator characters"
    # Modifier letters (Lm: "ー", "々") belong to no one script; UTS #39 counts them as Common.
    letters = [character for character in name if unicodedata.category(character) in ("Lu", "Ll", "Lt", "Lo")]
    if any(unicodedata.normalize("NFKC", letter) != letter for letter in letters):
        return "must not contain compatibility letters (fullwidth, mathematical, ligatures)"
    if not _single_script(letters):
        return "must not mix letters of several scripts"
    return None


def neutral_display_name(name: str) -> str:
    """``name`` with every control, format or separator character replaced by U+FFFD."""
    return "".join("\ufffd" if _is_hidden(character) else character for character in name)


def _is_hidden(character: str) -> bool:
    category = unicodedata.category(character)
    return category in _REFUSED_CATEGORIES or (category == "Zs" and character != " ")


def _single_script(letters: list[str]) -> bool:
    scripts = {_script(letter) for letter in letters}
    if len(scripts) <= 1:
        return True
    return any(scripts <= allowed for allowed in _CJK_COMPANIONS)


def _script(letter: str) -> str:
    """The script of a letter, from the first word of its Unicode name (good enough for letters)."""
    name = unicodedata.name(letter, "UNKNOWN")
    if name.startswith(("CJK ", "IDEOGRAPHIC")):
        return "HAN"
    if name.startswith("HANGUL"):
        return "HANGUL"
    return name.split(" ", 1)[0]
