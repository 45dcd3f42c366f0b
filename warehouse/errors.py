"""Every error storage raises on purpose; the CLI turns each into one line and exit code 1."""

from openness.errors import OpennessError


class WarehouseError(OpennessError):
    """Base of the warehouse's own errors."""


class WarehouseMissing(WarehouseError):
    """No warehouse file where one was expected."""


class WarehouseUnreadable(WarehouseError):
    """The warehouse file is not a DuckDB database this version can read (corrupt, cut short, another format)."""


class WarehouseBusy(WarehouseError):
    """Another process holds the warehouse's write lock for longer than we wait."""


class QueryError(WarehouseError):
    """A user's SQL failed (syntax, unknown table, an attempt to write on a read-only connection)."""


class CrawlLocked(WarehouseError):
    """Another crawl is writing this warehouse."""


class DiskFull(WarehouseError):
    """The disk holding the warehouse is full: nothing stored is lost, the command can run again."""
