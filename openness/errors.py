"""The root of every error openness raises on purpose. Each room has its own base under it
(extractors, warehouse, classification, outputs, pipeline), so a caller can catch one room's errors
or all of ours in one clause, and the command turns any of them into one line, never a traceback."""


class OpennessError(Exception):
    """Base of every error of ours: the message says what went wrong and, where it can, what to do."""
