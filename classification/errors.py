"""Every error classification raises on purpose; the CLI turns each into one line and exit code 1."""

from openness.errors import OpennessError


class ClassificationError(OpennessError):
    """Base of classification's own errors."""


class NotClassified(ClassificationError):
    """The model is not in the warehouse, or has no classification yet."""


class GoldError(ClassificationError):
    """The gold file cannot be read as model_id,component,level rows; the message says where."""


class RulesError(ClassificationError):
    """rules.yml does not follow its schema; the message says where."""
