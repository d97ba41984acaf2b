"""The one exception type for problems in what the user gave us (a file, a flag).

Command-line entry points catch it and print its message on one line, without a
traceback: the message itself must name the file or flag and say what is wrong.
"""


class InputError(Exception):
    """Bad user input: a missing or malformed file, an unsupported option value."""
