"""Client names shown on the consent page: nothing hidden, nothing that passes for another name."""

from __future__ import annotations

import pytest

from app.display_names import display_name_problem, neutral_display_name


@pytest.mark.parametrize(
    "name",
    [
        "Claude Desktop",
        "MCP Inspector 2.0 (beta) — Ünïcødé ok",
        "Visual Studio Code 🚀",
        "Кодовый помощник",  # one script: Cyrillic
        "מעבדה",  # Hebrew, right-to-left by itself
        "東京ツール",  # Han + Katakana (UTS #39 Highly Restrictive)
        "Claude 日本語版ー",  # Latin + Han + Katakana, modifier letter
        "코드 Helper",  # Hangul + Latin
    ],
)
def test_ordinary_names_in_any_one_script_are_accepted(name: str) -> None:
    """Our choice: names in any language pass."""
    assert display_name_problem(name) is None


@pytest.mark.parametrize(
    "name",
    [
        "\u202eevil\u202c Claude Desktop",  # RIGHT-TO-LEFT OVERRIDE … POP DIRECTIONAL FORMATTING
        "Claude\u2066 Desktop\u2069",  # isolates
        "Cla\u200bude",  # ZERO WIDTH SPACE
        "Cla\u200dude",  # ZERO WIDTH JOINER
        "\ufeffClaude",  # BOM
        "Claude\u061c",  # ARABIC LETTER MARK
        "Claude\x00",
        "Claude\x1b[31m",
        "Claude\x7f",
        "Claude\nDesktop",
        "Claude\u2028Desktop",
        "Claude\u00a0Desktop",  # NO-BREAK SPACE
        "Claude\ue000",  # private use
        "\u0421laude",  # Cyrillic ES + Latin: mixed scripts
        "Cl\u0430ude",  # Latin + Cyrillic a
        "\u0391pple",  # Greek Alpha + Latin
        "\uff23laude",  # FULLWIDTH C
        "\U0001d402laude",  # MATHEMATICAL BOLD CAPITAL C
        " Claude",
        "",
        "n" * 201,
        42,
    ],
)
def test_names_that_hide_or_disguise_text_are_refused(name: object) -> None:
    """Our choice (issue #15 finding 7; Unicode TR #9, UTS #39 §5.2)."""
    assert display_name_problem(name) is not None


def test_the_reason_never_repeats_the_name() -> None:
    problem = display_name_problem("\u202esecret-marker")
    assert problem is not None and "secret-marker" not in problem


def test_stored_names_are_neutralized_for_display() -> None:
    """Names stored before the rules: the override no longer takes effect on the page."""
    assert neutral_display_name("\u202eevil\u202c Claude") == "\ufffdevil\ufffd Claude"
    assert neutral_display_name("Claude Desktop") == "Claude Desktop"
