"""xfedlint's exceptions. Foreign errors are translated at the boundary where they occur.

    XfedlintError                 base of every error the CLI turns into an exit code and a message
    ├── UsageError               bad command-line use or configuration            -> exit 2
    │   └── RuleDefinitionError  a rule file is missing, malformed or inconsistent -> exit 2
    └── NoInputError             nothing auditable was given                       -> exit 3

Bad input files are not exceptions: loaders report them as `LoadProblem`s (XF001).
A check that raises is not an exception either: the engine reports it as XF002 and goes on.
"""


class XfedlintError(Exception):
    exit_code = 70


class UsageError(XfedlintError):
    exit_code = 2


class RuleDefinitionError(UsageError):
    pass


class NoInputError(XfedlintError):
    exit_code = 3
