"""The subgen command line: the table of subcommands on top of the stages (``subgen_cli.cli``)."""
