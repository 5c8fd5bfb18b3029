"""The product's user-facing error base: every error the CLI turns into one line and an exit code."""

from __future__ import annotations


class LeadscoreError(Exception):
    """An expected failure with a one-line explanation for the user.

    Anything else reaching the CLI is a bug and keeps its traceback.
    """

    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(LeadscoreError):
    """Bad configuration: settings, the rules file, or input files given on the command line."""

    exit_code = 2


class InputError(LeadscoreError):
    """Bad input data (a contact dump, a command-line value) that is not configuration."""

    exit_code = 2
