"""Repository-relative paths for the CI formats (SARIF, GitHub annotations).

Findings name files relative to the working folder. GitHub resolves a relative path against the root of the
checked-out repository, so a scan started in a subfolder (`cd infra && xfedlint scan .`) or given a path
outside the working folder must be re-based: the repository root is the nearest folder, from the working
folder up, that holds `.git` (a folder, or a file in a worktree or submodule). Without one, the working
folder is the root. A file outside the root keeps no relative form: it gets an absolute path.
"""

from __future__ import annotations

import os
import posixpath


def repository_root(start: str | None = None) -> str:
    """The nearest folder from `start` (default: the working folder) up that holds `.git`; else `start`."""
    here = os.path.abspath(start or os.getcwd())
    folder = here
    while True:
        if os.path.exists(os.path.join(folder, ".git")):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return here
        folder = parent


class Rebase:
    """Maps a report path (relative to the working folder, forward slashes) to one relative to the root.

    `rel(path)` gives the repository-relative path, or None when the file lies outside the root (or is not a
    file: standard input, or a finding about no file); `absolute(path)` gives its absolute path."""

    def __init__(self, root: str | None = None, cwd: str | None = None) -> None:
        self.cwd = os.path.abspath(cwd or os.getcwd())
        self.root = os.path.abspath(root) if root else repository_root(self.cwd)
        prefix = os.path.relpath(self.cwd, self.root).replace(os.sep, "/")
        self.prefix = "" if prefix == "." else prefix

    def rel(self, path: str) -> str | None:
        if not path or path == "<stdin>":
            return None
        if posixpath.isabs(path) or os.path.isabs(path):
            try:
                joined = os.path.relpath(path, self.root).replace(os.sep, "/")
            except ValueError:  # another drive on Windows
                return None
        else:
            joined = posixpath.normpath(posixpath.join(self.prefix, path)) if self.prefix else posixpath.normpath(path)
        if joined == ".." or joined.startswith("../"):
            return None
        return joined

    def absolute(self, path: str) -> str:
        return os.path.normpath(os.path.join(self.cwd, path))
