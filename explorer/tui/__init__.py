"""The explorer: a keyboard-first Textual app over the lineage graph.

Only :mod:`explorer.commands.explore` imports this package's app. ``explorer.tui.data`` holds the
queries and value formatting the screens show; it imports no Textual, so it is tested like the core.
"""
