"""Widgets of the explorer: each in its own module, with the messages it posts nested inside it."""
