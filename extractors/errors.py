"""Every error the extractors raise on purpose: their knowledge files are data, validated as they load."""

from openness.errors import OpennessError


class ExtractorError(OpennessError):
    """Base of the extractors' own errors."""


class KnowledgeError(ExtractorError):
    """A knowledge file that does not follow the schema; the message names the file."""
