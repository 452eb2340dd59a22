"""Exceptions genlab raises for bad input and failed runs.

Every error a user can cause derives from :class:`GenlabError`, so the CLI can print its message (which says what
is wrong and how to fix it) without a traceback, while genuine bugs still surface with one.
"""


class GenlabError(Exception):
    """Base class for errors caused by input or environment, reported to the user as a plain message."""


class ConfigError(GenlabError):
    """A configuration file, key or value is invalid."""


class DataError(GenlabError):
    """A data set is missing, corrupt or empty."""


class CheckpointError(GenlabError):
    """A checkpoint or run folder is missing, corrupt or incompatible."""


class TrainingDiverged(GenlabError):
    """A loss became NaN or infinite; training stopped without overwriting the last good checkpoint."""


class TrainingInterrupted(GenlabError):
    """Training was stopped by a signal after saving a checkpoint."""

    def __init__(self, message: str, signum: int):
        super().__init__(message)
        self.signum = signum

    def __reduce__(self) -> tuple[type, tuple[str, int]]:
        """Pickle with the signal number too: a study's worker process hands the error back to the study."""
        return type(self), (str(self), self.signum)


class TrainingStopped(GenlabError):
    """The training doctor stopped a run it diagnosed as failing (doctor.action: stop); a checkpoint was saved."""


def one_line(exc: BaseException, limit: int = 200) -> str:
    """``exc`` as ``Type: message`` on one line of at most about ``limit`` characters, for the detail in an error
    message (library errors such as torch's state-dict mismatches span many lines)."""
    text = " ".join(str(exc).split())
    short = text if len(text) <= limit else text[:limit].rstrip() + " ..."
    return f"{type(exc).__name__}: {short}" if short else type(exc).__name__
