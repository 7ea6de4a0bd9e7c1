"""fitflow's built-in problem and method plugins.

They are registered through the same entry points (``fitflow.problems`` and
``fitflow.methods``) as any third-party plugin, and use only the public
``fitflow`` API, so each doubles as an example of a plugin.
"""
