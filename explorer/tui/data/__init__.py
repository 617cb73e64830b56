"""What the explorer shows, computed from the store: plain dataclasses, no Textual."""
