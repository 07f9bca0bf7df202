"""The command line (Typer): ``splinebench run``, ``runs``, ``models``, ``datasets``, ``pruners``, ``energy`` ..."""
