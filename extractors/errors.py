"""Every error the extractors raise on purpose: their knowledge files are data, validated as they load."""


class ExtractorError(Exception):
    """Base of the extractors' own errors."""


class KnowledgeError(ExtractorError):
    """A knowledge file that does not follow the schema; the message names the file."""
