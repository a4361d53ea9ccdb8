"""Command-line adapter: parse options, call a service function, render a table or JSON."""
