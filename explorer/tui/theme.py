"""mlprov's own themes, dark and light: the screens use theme variables only ($primary, $panel…)."""

from __future__ import annotations

from textual.theme import Theme

MLPROV_DARK = Theme(
    name="mlprov-dark",
    primary="#4FB3BF",
    secondary="#7C9FD9",
    accent="#E8A33D",
    warning="#E8A33D",
    error="#E5534B",
    success="#57AB5A",
    foreground="#D8DEE4",
    background="#15191E",
    surface="#1C2128",
    panel="#22303C",
    dark=True,
    variables={"footer-key-foreground": "#4FB3BF", "block-cursor-text-style": "bold"},
)

MLPROV_LIGHT = Theme(
    name="mlprov-light",
    primary="#1F6F7A",
    secondary="#3C5A99",
    accent="#A8650A",
    warning="#A8650A",
    error="#B42318",
    success="#2E7D32",
    foreground="#1F2328",
    background="#FAFAF7",
    surface="#F0F1EC",
    panel="#DDE7EA",
    dark=False,
    variables={"footer-key-foreground": "#1F6F7A", "block-cursor-text-style": "bold"},
)

THEMES = (MLPROV_DARK, MLPROV_LIGHT)
