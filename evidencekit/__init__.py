"""evidencekit: collect digital evidence that holds up in court."""

__version__ = "0.1.0"
TOOL_NAME = "evidencekit"
