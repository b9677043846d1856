"""The command line: thin commands that import what they run only when they run it."""
