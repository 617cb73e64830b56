"""Screens of the explorer: models home, node view, trace, diff, and the small dialogs."""
