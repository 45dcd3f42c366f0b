"""Every error the outputs (report, SPDX, snapshots, diff) raise on purpose; the CLI turns each into
one line and exit code 1."""

from openness.errors import OpennessError


class OutputError(OpennessError):
    """Base of the outputs' own errors."""


class NothingToReport(OutputError):
    """No model is classified yet."""


class InvalidSpdx(OutputError):
    """spdx-tools' validator found errors in a document we built (a bug: it is never written)."""


class NoSuchRun(OutputError):
    """A run id that is not a crawl of this warehouse, or too few runs to compare."""


class NotInWarehouse(OutputError):
    """A model the warehouse holds no commit of."""


class NoSuchSnapshot(OutputError):
    """A run that is not in the warehouse, or was compacted (its archive holds it)."""


class PublishFailed(OutputError):
    """The Hub refused a publication or could not be reached (nothing half-published is left:
    a commit is all or nothing)."""
