"""Finding input files and reading them as text, turning every failure into a `LoadProblem`."""

from __future__ import annotations

import fnmatch
import os
import stat
import sys

import msgspec

from xfedlint.model.inventory import LoadProblem
from xfedlint.model.location import Location, Span

# In folders, only these are read; a file named on the command line is always read (content decides).
SCAN_SUFFIXES = (".yaml", ".yml", ".json", ".tf", ".md", ".sh")  # .txt runbooks: when named
TEMPLATE_SUFFIXES = (".tpl", ".tmpl", ".template")
SKIP_DIRS = {".git", "node_modules", ".terraform", "__pycache__"}
DEFAULT_SIZE_CAP = 10 * 1024 * 1024
FIRST_CHARACTER = Span.point(1, 1)  # where a problem with the whole file is reported
STDIN = "-"


class InputFile(msgspec.Struct, frozen=True):
    path: str  # what to open ("-" for standard input)
    display: str  # how reports name it: relative to the working folder, with forward slashes


def display_path(path: str) -> str:
    if path == STDIN:
        return "<stdin>"
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        rel = path
    return rel.replace(os.sep, "/")


def wanted_in_folder(name: str) -> bool:
    lower = name.lower()
    for t in TEMPLATE_SUFFIXES:
        if lower.endswith(t):
            lower = lower[: -len(t)]
            break
    return lower.endswith(SCAN_SUFFIXES)


def _excluded(rel: str, excludes: tuple[str, ...]) -> bool:
    base = rel.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatch(rel, g) or fnmatch.fnmatch(base, g) for g in excludes)


def discover(paths: tuple[str, ...], excludes: tuple[str, ...] = ()) -> tuple[list[InputFile], list[str]]:
    """Input files under `paths` in a stable order, and the paths that do not exist."""
    found: dict[str, InputFile] = {}
    missing: list[str] = []
    for p in paths:
        if p == STDIN:
            found[STDIN] = InputFile(STDIN, display_path(STDIN))
        elif os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
                rel_root = display_path(root)
                dirs[:] = [d for d in dirs if not _excluded(f"{rel_root}/{d}", excludes)]
                for name in sorted(files):
                    full = os.path.join(root, name)
                    disp = name if rel_root == "." else f"{rel_root}/{name}"  # display_path(full), computed once per folder
                    if wanted_in_folder(name) and not _excluded(disp, excludes):
                        found.setdefault(disp, InputFile(full, disp))
        elif os.path.exists(p):
            disp = display_path(p)
            if not _excluded(disp, excludes):
                found.setdefault(disp, InputFile(p, disp))
        else:
            missing.append(p)
    return sorted(found.values(), key=lambda f: f.display), missing


def _problem(f: InputFile, message: str, reason: str, span: Span = FIRST_CHARACTER) -> LoadProblem:
    return LoadProblem(Location(f.display, span), message, reason)


def _position_of_byte(data: bytes, offset: int) -> Span:
    line = data.count(b"\n", 0, offset) + 1
    col = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
    return Span.point(line, col)


def read_text(f: InputFile, size_cap: int = DEFAULT_SIZE_CAP) -> str | LoadProblem:
    """The file's text, or the problem that stops it being read. Never raises for the file's sake."""
    try:
        if f.path == STDIN:
            data = sys.stdin.buffer.read(size_cap + 1)
        else:
            # Only regular files are read: opening a FIFO (named, or found in a folder under a .yaml name)
            # blocks until a writer comes, and a device may never end. Checked before opening, and again on
            # the open descriptor (non-blocking, so a file swapped for a FIFO in between cannot hang us).
            if not stat.S_ISREG(os.stat(f.path).st_mode):
                return _problem(f, "not a regular file (a FIFO, socket or device); not read", "not-regular")
            fd = os.open(f.path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
            with os.fdopen(fd, "rb") as fh:
                st = os.fstat(fh.fileno())
                if not stat.S_ISREG(st.st_mode):
                    return _problem(f, "not a regular file (a FIFO, socket or device); not read", "not-regular")
                if st.st_size > size_cap:
                    return _problem(f, f"file is {st.st_size:,} bytes, over the {size_cap:,}-byte size cap; "
                                       "not read", "too-large")
                data = fh.read(size_cap + 1)
    except OSError as exc:
        return _problem(f, f"cannot read file: {exc.strerror or exc}", "unreadable")
    if len(data) > size_cap:
        return _problem(f, f"input is over the {size_cap:,}-byte size cap; not read", "too-large")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16 with a byte-order mark: PowerShell's `>` writes it
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return _problem(f, "UTF-16 text that does not decode; save the file as UTF-8", "encoding")
    nul = data.find(b"\x00", 0, 8192)
    if nul >= 0:
        return _problem(f, "binary file (NUL byte); not a configuration file", "binary", _position_of_byte(data, nul))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return _problem(f, f"not valid UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8",
                        "encoding", _position_of_byte(data, exc.start))
