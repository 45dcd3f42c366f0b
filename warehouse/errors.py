"""Every error the warehouse (storage, classification, outputs) raises on purpose; the CLI turns
each into one line and exit code 1."""


class WarehouseError(Exception):
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


class NotClassified(WarehouseError):
    """The model is not in the warehouse, or has no classification yet."""


class NothingToReport(WarehouseError):
    """No model is classified yet."""


class InvalidSpdx(WarehouseError):
    """spdx-tools' validator found errors in a document we built (a bug: it is never written)."""


class NoSuchRun(WarehouseError):
    """A run id that is not a crawl of this warehouse, or too few runs to compare."""


class NotInWarehouse(WarehouseError):
    """A model the warehouse holds no commit of."""


class GoldError(WarehouseError):
    """The gold file cannot be read as model_id,component,level rows; the message says where."""


class NoSuchSnapshot(WarehouseError):
    """A run that is not in the warehouse, or was compacted (its archive holds it)."""


class RulesError(WarehouseError):
    """rules.yml does not follow its schema; the message says where."""
