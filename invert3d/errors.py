"""Errors that carry a message meant for the user; the CLI prints them as one line and exits with status 2."""


class Invert3dError(Exception):
    """Base class: a problem with the user's input, not a bug."""


class CameraError(Invert3dError):
    """A camera label that is missing, unreadable or malformed."""


class CheckpointError(Invert3dError):
    """A checkpoint that cannot be loaded (missing, truncated, unsupported, or unsafe)."""
