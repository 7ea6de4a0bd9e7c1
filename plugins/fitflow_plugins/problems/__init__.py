"""Built-in data-generating problems."""
