"""The base class of every error meant for a user: ``rig`` prints it as one line."""


class RigError(Exception):
    """An error the user can act on (bad input, a run folder in the way, a run that
    diverged); the CLI prints its message alone, without a traceback."""
