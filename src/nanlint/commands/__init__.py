"""The subcommands of `nanlint`, one module each; nanlint.cli registers them.

Each module imports only click at start-up and the rest inside its command, so that `nanlint
check` on files without triggers never loads the analysis.
"""
