"""Built-in fitting methods."""
