#!/usr/bin/env python3
"""Runs ecs-autopsy for the GitHub Action and turns its failures into annotations.

`annotate.py run check|test|lint` is what action.yml runs. It builds the command from the
action's inputs (the environment variables below), runs `ecs-autopsy` from PATH, copies its
output to the log, prints one workflow command (`::error file=…,line=…::…`) per failure,
pointing at the file that fails (the rule's .rhai file and line, the case's case.toml or
expected.txt, the task definition's line), appends a Markdown table to $GITHUB_STEP_SUMMARY
when it is set, and exits with ecs-autopsy's own exit code, whatever happens here.

    ECS_AUTOPSY_RULES   rule directories (with their case folders), default "."
    ECS_AUTOPSY_LINT    paths for `ecs-autopsy lint` (task definitions, AWS CLI outputs)
    ECS_AUTOPSY_ARGS    extra global flags, such as --strict or -v
    ECS_AUTOPSY_CONFIG  an ecs-autopsy.toml to use; without it, --no-config

Lists are split as a shell would (quotes keep spaces).

`annotate.py parse --kind check|test|lint [--stderr FILE] [--exit-code N] [FILE]` reads output
saved earlier (FILE or standard input) and prints the same annotations, then exits with N.

What ecs-autopsy prints, and so what is parsed here: `rules check` lists each error as
`FILE:LINE:COLUMN: MESSAGE` (the text output is parsed; `--format json` has the same lines as
its `text` fields); `rules test` prints a line per
case (`ok`, `FAIL` or `todo`, then the case folder) followed by that case's failures indented
by six spaces, diffs included (the text output; its JSON form carries the same strings);
`lint --format json` is the JSON report, whose
evidence labels name the input file and the JSON path in it (`taskdef.json:
.containerDefinitions[0].image`). Errors, such as a rule that does not load, go to stderr as
`ecs-autopsy: error: …`. Python 3 standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shlex
import subprocess
import sys
from dataclasses import dataclass, field

BINARY = "ecs-autopsy"
KINDS = ("check", "test", "lint")
# GitHub cuts long annotation messages anyway; the step summary and the log keep everything.
MAX_MESSAGE = 4000
# GitHub shows at most this many annotations of each level per step.
SHOWN_PER_STEP = 10


@dataclass
class Annotation:
    level: str  # "error", "warning" or "notice"
    message: str
    title: str = ""
    file: str | None = None
    line: int | None = None
    col: int | None = None
    # The rule case this failure was seen in, and the other cases it appears in (a rule that
    # fails at run time fails every case).
    case: str | None = None
    also_in: list[str] = field(default_factory=list)

    def key(self) -> tuple:
        first_line = self.message.split("\n", 1)[0]
        return (self.level, self.file, self.line, self.col, first_line)


# Workflow commands.


def escape_data(text: str) -> str:
    """Escapes the message of a workflow command."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escapes a property (file, title) of a workflow command."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_annotation(annotation: Annotation) -> str:
    properties = []
    if annotation.file:
        properties.append(("file", annotation.file))
        if annotation.line:
            properties.append(("line", str(annotation.line)))
            if annotation.col:
                properties.append(("col", str(annotation.col)))
    if annotation.title:
        properties.append(("title", annotation.title))
    message = annotation.message
    if annotation.also_in:
        message += "\n(also in " + ", ".join(annotation.also_in) + ")"
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 1] + "…"
    rendered = ",".join(f"{name}={escape_property(value)}" for name, value in properties)
    return f"::{annotation.level}{' ' + rendered if rendered else ''}::{escape_data(message)}"


# Paths.


def display_path(path: str, root: str) -> str:
    """`path` (relative to the working directory) relative to the repository root."""
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute, os.path.abspath(root))
    if relative == ".." or relative.startswith(".." + os.sep):
        return absolute
    return relative.replace(os.sep, "/")


def read_lines(path: str) -> list[str] | None:
    try:
        with open(path, encoding="utf-8") as file:
            return file.read().replace("\r\n", "\n").split("\n")
    except (OSError, UnicodeDecodeError):
        return None


LOCATION = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+)(?:: (?P<message>.*))?$")


def split_location(text: str) -> tuple[str, int | None, int | None]:
    """`FILE:LINE:COL` or `FILE` as ecs-autopsy writes a rule's location."""
    match = re.match(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+)$", text)
    if match:
        return match["file"], int(match["line"]), int(match["col"])
    return text, None, None


# `rules check`.


def parse_check(stdout: str, root: str, failed: bool) -> list[Annotation]:
    annotations = []
    for line in stdout.splitlines():
        if not line.strip() or re.match(r"^checked \d+ rule file", line):
            continue
        match = LOCATION.match(line)
        if match and match["message"] is not None:
            annotations.append(
                Annotation(
                    "error",
                    match["message"],
                    title="ecs-autopsy rules check",
                    file=display_path(match["file"], root),
                    line=int(match["line"]),
                    col=int(match["col"]),
                )
            )
        elif failed:
            # A directory that cannot be read, or an error without a position.
            annotations.append(Annotation("error", line, title="ecs-autopsy rules check"))
    return annotations


# `rules test`.

CASE_LINE = re.compile(r"^(?P<status>ok|FAIL|todo) +(?P<dir>\S.*)$")
INDENT = " " * 6


@dataclass
class CaseResult:
    status: str
    directory: str
    failures: list[list[str]]  # each failure's lines, the first one its message
    known_gap: str | None = None


def parse_cases(stdout: str) -> tuple[list[CaseResult], str | None]:
    """The cases `rules test` printed, and its closing line (`16 case(s), …: 14 passed, 2 failed`)."""
    cases: list[CaseResult] = []
    closing = None
    for line in stdout.splitlines():
        match = CASE_LINE.match(line)
        if match:
            cases.append(CaseResult(match["status"], match["dir"], []))
            continue
        if line.startswith(INDENT) and cases:
            text = line[len(INDENT) :]
            case = cases[-1]
            if text.startswith("known gap: ") and not case.failures:
                case.known_gap = text[len("known gap: ") :]
            elif case.failures and (text == "" or text[0] in " +-"):
                # A diff line (`- `, `+ `, two spaces of context, `  ...`) of the failure above.
                case.failures[-1].append(text)
            else:
                case.failures.append([text])
            continue
        if re.search(r"\bcase\(s\), .*\bpassed, \d+ failed", line):
            closing = line.strip()
    return cases, closing


def diff_target_line(file_lines: list[str], diff: list[str]) -> int | None:
    """The line of `file_lines` where the first change of a `rules test` diff starts.

    The diff shows the expected file's lines with two lines of context; its first hunk, read
    on the expected side (context and `-` lines), is found in the file.
    """
    expected_side: list[str] = []
    first_change = None
    for line in diff:
        if line.strip() == "...":
            break
        sign, text = line[:1], line[2:]
        if sign in (" ", "-"):
            if sign == "-" and first_change is None:
                first_change = len(expected_side)
            expected_side.append(text)
        elif sign == "+" and first_change is None:
            first_change = len(expected_side)
    if first_change is None:
        return None
    for start in range(len(file_lines) - len(expected_side) + 1):
        if file_lines[start : start + len(expected_side)] == expected_side:
            return min(start + first_change, max(len(file_lines) - 1, 0)) + 1
    return None


def case_toml_line(lines: list[str] | None, rule: str | None, keys: tuple[str, ...]) -> int | None:
    """The case.toml line naming `rule` (preferably under one of `keys`), else the first key."""
    if not lines:
        return None
    if rule:
        quoted = [f'"{rule}"', f"'{rule}'"]
        for wanted_keys in (keys, ()):
            for index, line in enumerate(lines):
                key = line.split("=", 1)[0].strip()
                if any(q in line for q in quoted) and (not wanted_keys or key in wanted_keys):
                    return index + 1
    for index, line in enumerate(lines):
        if line.split("=", 1)[0].strip() in keys:
            return index + 1
    return None


RULE_IN_BACKTICKS = re.compile(r"`([^`]+)`")


def rule_failure(rule: str, message: str, location: str, root: str, title: str, case: str | None = None) -> Annotation:
    """A rule that failed while running, at its .rhai FILE:LINE:COL."""
    path, line_number, col = split_location(location)
    return Annotation(
        "error",
        f"rule `{rule}` failed: {message}",
        title=title,
        file=display_path(path, root),
        line=line_number,
        col=col,
        case=case,
    )


def annotate_failure(case: CaseResult, failure: list[str], root: str) -> Annotation:
    head, rest = failure[0], failure[1:]
    message = "\n".join(failure)
    case_dir = case.directory
    case_name = display_path(case_dir, root)
    title = f"rule case {case_name} failed"
    case_toml = os.path.join(case_dir, "case.toml")

    def at(path: str, line: int | None = None, col: int | None = None, text: str = message) -> Annotation:
        return Annotation("error", text, title=title, file=display_path(path, root), line=line, col=col)

    snapshot = re.match(r"^(?:findings differ from|the report differs from) (?P<file>[\w.]+) ", head)
    if snapshot:
        path = os.path.join(case_dir, snapshot["file"])
        lines = read_lines(path)
        return at(path, diff_target_line(lines, rest) if lines is not None else None)
    if head.startswith("no expected.txt yet"):
        return at(case_toml, 1)
    failed = re.match(r"^rule `(?P<rule>[^`]+)` failed: (?P<message>.*)$", head)
    if failed:
        # The location is in the findings diff: `+ rule error ID (FILE:LINE:COL): MESSAGE`.
        pattern = re.compile(r"rule error " + re.escape(failed["rule"]) + r" \((?P<location>[^)]*)\): ")
        for line in rest + [line for other in case.failures for line in other]:
            found = pattern.search(line)
            if found:
                return rule_failure(
                    failed["rule"],
                    failed["message"],
                    found["location"],
                    root,
                    title=f"rule {failed['rule']} failed (case {case_name})",
                    case=case_name,
                )
        return at(case_toml, 1)
    located = LOCATION.match(head)
    if located and located["message"] is not None:
        return at(located["file"], int(located["line"]), int(located["col"]), located["message"])
    rule_match = RULE_IN_BACKTICKS.search(head)
    rule = rule_match[1] if rule_match else None
    lines = read_lines(case_toml)
    if head.startswith("expected `"):
        return at(case_toml, case_toml_line(lines, rule, ("expect",)))
    if "must not fire" in head:
        return at(case_toml, case_toml_line(lines, rule, ("ok",)))
    if "is listed in todo" in head:
        return at(case_toml, case_toml_line(lines, rule, ("todo",)))
    if "fired but is not in expect" in head:
        return at(case_toml, case_toml_line(lines, None, ("expect",)))
    if head.startswith("case.toml names `"):
        return at(case_toml, case_toml_line(lines, rule, ("expect", "ok", "todo")))
    if head.startswith(("task ", "no stopped task", "root_causes names")):
        return at(case_toml, case_toml_line(lines, None, ("root_cause", "root_causes")))
    if head.startswith("passes now"):
        return at(case_toml, case_toml_line(lines, None, ("todo_reason",)))
    path = re.match(r"^(?P<path>[^:]+): ", head)
    if path and os.path.isfile(path["path"]):
        return at(path["path"])
    return at(case_toml, case_toml_line(lines, None, ("description",)) or 1)


def parse_test(stdout: str, root: str) -> tuple[list[Annotation], list[CaseResult], str | None]:
    cases, closing = parse_cases(stdout)
    annotations = []
    for case in cases:
        for failure in case.failures:
            if case.status == "FAIL":
                annotations.append(annotate_failure(case, failure, root))
        if case.status == "todo" and case.known_gap:
            case_toml = os.path.join(case.directory, "case.toml")
            annotations.append(
                Annotation(
                    "notice",
                    f"known gap: {case.known_gap}",
                    title=f"rule case {display_path(case.directory, root)} is a known gap",
                    file=display_path(case_toml, root),
                    line=case_toml_line(read_lines(case_toml), None, ("todo_reason",)),
                )
            )
    return annotations, cases, closing


# `lint --format json`.


def json_path_tokens(path: str) -> list[str | int] | None:
    """`.a.b[0].c` or `calls[0].response.x` as keys and indexes."""
    tokens: list[str | int] = []
    position = 0
    pattern = re.compile(r'\.?(?:(?P<key>[A-Za-z0-9_$@-]+)|"(?P<quoted>(?:[^"\\]|\\.)*)")|\[(?P<index>\d+)\]')
    while position < len(path):
        match = pattern.match(path, position)
        if not match or match.end() == position:
            return None
        if match["index"] is not None:
            tokens.append(int(match["index"]))
        elif match["key"] is not None:
            tokens.append(match["key"])
        else:
            tokens.append(json.loads(f'"{match["quoted"]}"'))
        position = match.end()
    return tokens


def json_locate(text: str, tokens: list[str | int]) -> tuple[int, int] | None:
    """Line and column of the value at `tokens` in the JSON `text` (of its key, for an object
    member), or of the deepest part of the path that exists. None when the text is not JSON."""
    decoder = json.JSONDecoder()
    whitespace = " \t\r\n"

    def skip_ws(index: int) -> int:
        while index < len(text) and text[index] in whitespace:
            index += 1
        return index

    def skip_value(index: int) -> int:
        _, end = decoder.raw_decode(text, index)
        return end

    try:
        json.loads(text.removeprefix("\ufeff"))
    except ValueError:
        return None
    try:
        index = skip_ws(1 if text.startswith("\ufeff") else 0)
        if index >= len(text):
            return None
        found = index
        for token in tokens:
            if isinstance(token, str) and text[index] == "{":
                index = skip_ws(index + 1)
                matched = False
                while index < len(text) and text[index] != "}":
                    key_start = index
                    key, index = json.decoder.scanstring(text, index + 1)
                    index = skip_ws(index)
                    index = skip_ws(index + 1)  # the colon
                    if key == token:
                        found, matched = key_start, True
                        break
                    index = skip_ws(skip_value(index))
                    if index < len(text) and text[index] == ",":
                        index = skip_ws(index + 1)
                if not matched:
                    break
            elif isinstance(token, int) and text[index] == "[":
                index = skip_ws(index + 1)
                for _ in range(token):
                    if index >= len(text) or text[index] == "]":
                        break
                    index = skip_ws(skip_value(index))
                    if index < len(text) and text[index] == ",":
                        index = skip_ws(index + 1)
                if index >= len(text) or text[index] == "]":
                    break
                found = index
            else:
                break
    except (ValueError, IndexError):
        return None
    line = text.count("\n", 0, found) + 1
    col = found - (text.rfind("\n", 0, found) + 1) + 1
    return line, col


LABEL = re.compile(r"^(?P<file>.+?): (?P<path>[.\[].*)$")


def resolve_label(display: str, inputs: list[str]) -> str | None:
    """The lint input a report label names: a file given by name, or a file inside a folder
    given, by its path relative to that folder."""
    for path in inputs:
        if os.path.isfile(path) and os.path.basename(path) == display:
            return path
        if os.path.isdir(path):
            candidate = os.path.join(path, *display.split("/"))
            if os.path.isfile(candidate):
                return candidate
    return None


def locate_evidence(finding: dict, inputs: list[str]) -> tuple[str | None, int | None, int | None]:
    """The file and line of a finding's first evidence that names an input file."""
    for fact in finding.get("evidence") or []:
        label = fact.get("label") or ""
        match = LABEL.match(label)
        if match:
            path, tokens = resolve_label(match["file"], inputs), json_path_tokens(match["path"])
        elif len(inputs) == 1 and os.path.isfile(inputs[0]) and inputs[0].endswith(".json"):
            # A bundle: the evidence path (`calls[0].response…`) is a path into the file itself.
            path, tokens = inputs[0], json_path_tokens(fact.get("path") or "")
        else:
            continue
        if path is None:
            continue
        position = None
        if tokens is not None:
            try:
                with open(path, encoding="utf-8") as file:
                    position = json_locate(file.read(), tokens)
            except (OSError, UnicodeDecodeError):
                position = None
        return path, *(position or (None, None))
    return None, None, None


LEVELS = {"error": "error", "warning": "warning", "info": "notice"}


def parse_lint(stdout: str, root: str, inputs: list[str]) -> tuple[list[Annotation], dict | None]:
    try:
        report = json.loads(stdout)
    except ValueError:
        return [], None
    if not isinstance(report, dict):
        return [], None
    annotations = []
    for finding in report.get("findings") or []:
        path, line, col = locate_evidence(finding, inputs)
        subject = finding.get("task_definition") or finding.get("service") or "input"
        if finding.get("container"):
            subject += f" container {finding['container']}"
        message = finding.get("message") or ""
        if finding.get("hint"):
            message += f"\nfix: {finding['hint']}"
        annotations.append(
            Annotation(
                LEVELS.get(finding.get("severity"), "error"),
                message,
                title=f"{finding.get('rule')}: {subject}",
                file=display_path(path, root) if path else None,
                line=line,
                col=col,
            )
        )
    for error in report.get("rule_errors") or []:
        line, col = None, None
        if error.get("position"):
            _, line, col = split_location(f"x:{error['position']}")
        annotations.append(
            Annotation(
                "error",
                f"rule `{error.get('rule')}` failed: {error.get('message')}",
                title=f"rule {error.get('rule')} failed",
                file=display_path(error["file"], root) if error.get("file") else None,
                line=line,
                col=col,
            )
        )
    return annotations, report


# Standard error.


def parse_stderr(stderr: str, root: str, kind: str) -> list[Annotation]:
    annotations = []
    for line in stderr.splitlines():
        if not line.startswith("ecs-autopsy: error: "):
            continue
        text = line[len("ecs-autopsy: error: ") :]
        failed = re.match(r"^rule (?P<rule>\S+) failed \((?P<location>[^)]*)\): (?P<message>.*)$", text)
        located = LOCATION.match(text)
        if failed:
            annotations.append(
                rule_failure(
                    failed["rule"], failed["message"], failed["location"], root, title=f"rule {failed['rule']} failed"
                )
            )
        elif located and located["message"] is not None and os.path.exists(located["file"]):
            loads = located["file"].endswith(".rhai")
            annotations.append(
                Annotation(
                    "error",
                    located["message"],
                    title="rule does not load" if loads else f"ecs-autopsy {command_name(kind)}",
                    file=display_path(located["file"], root),
                    line=int(located["line"]),
                    col=int(located["col"]),
                )
            )
        else:
            annotations.append(Annotation("error", text, title=f"ecs-autopsy {command_name(kind)}"))
    return annotations


def command_name(kind: str) -> str:
    return "lint" if kind == "lint" else f"rules {kind}"


def merge(annotations: list[Annotation]) -> list[Annotation]:
    """One annotation per place and message; the cases a rule error repeats in are listed."""
    merged: dict[tuple, Annotation] = {}
    for annotation in annotations:
        existing = merged.get(annotation.key())
        if existing is None:
            merged[annotation.key()] = annotation
            continue
        case = annotation.case
        if case and case != existing.case and case not in existing.also_in:
            existing.also_in.append(case)
    return list(merged.values())


def annotate(
    kind: str, stdout: str, stderr: str, root: str, lint_inputs: list[str], exit_code: int = 1
) -> tuple[list[Annotation], str]:
    """The annotations for one command's output, and a headline for the summary."""
    headline = ""
    if kind == "check":
        annotations = parse_check(stdout, root, failed=exit_code != 0)
        closing = [line for line in stdout.splitlines() if line.startswith("checked ")]
        headline = closing[-1] if closing else ""
    elif kind == "test":
        annotations, _, closing = parse_test(stdout, root)
        headline = closing or ""
    else:
        annotations, report = parse_lint(stdout, root, lint_inputs)
        if report is not None:
            checked = report.get("checked") or {}
            headline = (
                f"{len(report.get('findings') or [])} finding(s) in "
                f"{len(checked.get('task_definitions') or [])} task definition(s) and "
                f"{len(checked.get('services') or [])} service(s)"
            )
    return merge(annotations + parse_stderr(stderr, root, kind)), headline


# The step summary.


def markdown_cell(text: str) -> str:
    text = text.replace("\r", "").replace("|", "\\|").replace("\n", "<br>")
    return text if len(text) <= 300 else text[:299] + "…"


def summary(kind: str, command: list[str], exit_code: int, annotations: list[Annotation], headline: str) -> str:
    server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
    repository = os.environ.get("GITHUB_REPOSITORY")
    sha = os.environ.get("GITHUB_SHA")
    verdict = "passed" if exit_code == 0 else f"failed (exit code {exit_code})"
    out = [f"### `ecs-autopsy {command_name(kind)}` {verdict}", ""]
    if headline:
        out += [headline, ""]
    out += ["```text", " ".join(shlex.quote(part) for part in command), "```", ""]
    if not annotations:
        return "\n".join(out) + "\n"
    out += ["| | where | what |", "|---|---|---|"]
    icons = {"error": "❌ error", "warning": "⚠️ warning", "notice": "ℹ️ notice"}
    for annotation in annotations:
        where = ""
        if annotation.file:
            where = annotation.file + (f":{annotation.line}" if annotation.line else "")
            if repository and sha and not os.path.isabs(annotation.file):
                anchor = f"#L{annotation.line}" if annotation.line else ""
                where = f"[{markdown_cell(where)}]({server}/{repository}/blob/{sha}/{annotation.file}{anchor})"
            else:
                where = markdown_cell(where)
        first_line = annotation.message.split("\n", 1)[0]
        # A diff follows such a line; the link points at its first change.
        first_line = re.sub(r" \(- (?:expected|old), \+ (?:actual|new)\):$", "", first_line)
        what = annotation.title + ": " + first_line
        if annotation.also_in:
            what += " (also in " + ", ".join(annotation.also_in) + ")"
        out.append(f"| {icons.get(annotation.level, annotation.level)} | {where} | {markdown_cell(what)} |")
    counts = {level: sum(a.level == level for a in annotations) for level in ("error", "warning", "notice")}
    if any(count > SHOWN_PER_STEP for count in counts.values()):
        out += ["", f"GitHub shows at most {SHOWN_PER_STEP} annotations of each kind per step; this table has them all."]
    return "\n".join(out) + "\n"


def write_summary(text: str) -> None:
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as file:
            file.write(text + "\n")


# Running.


def split_list(value: str | None) -> list[str]:
    return shlex.split(value or "")


def build_command(kind: str, environ: dict[str, str]) -> list[str]:
    rules = split_list(environ.get("ECS_AUTOPSY_RULES")) or ["."]
    config = environ.get("ECS_AUTOPSY_CONFIG", "").strip()
    command = [BINARY, "--color", "never"]
    command += ["--config", config] if config else ["--no-config"]
    command += split_list(environ.get("ECS_AUTOPSY_ARGS"))
    if kind == "check":
        return command + ["rules", "check"] + rules
    if kind == "test":
        return command + ["rules", "test"] + rules
    for directory in rules:
        command += ["--rules", directory]
    return command + ["--format", "json", "lint"] + split_list(environ.get("ECS_AUTOPSY_LINT"))


def print_untrusted(text: str, stream) -> None:
    """Copies the CLI's output to the log with workflow commands turned off, so that text from a
    rule, case or task definition (anything in the repository under test) cannot be one."""
    if not text:
        return
    token = secrets.token_hex(16)
    print(f"::stop-commands::{token}", flush=True)
    stream.write(text if text.endswith("\n") else text + "\n")
    stream.flush()
    print(f"::{token}::", flush=True)


def is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def exit_status(returncode: int) -> int:
    # A CLI killed by a signal exits as a shell would report it, never 0.
    return 128 - returncode if returncode < 0 else returncode


def run(kind: str) -> int:
    environ = dict(os.environ)
    command = build_command(kind, environ)
    root = environ.get("GITHUB_WORKSPACE") or os.getcwd()
    print("+ " + " ".join(shlex.quote(part) for part in command), flush=True)
    try:
        completed = subprocess.run(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env={**environ, "NO_COLOR": "1"},
            check=False,
        )
    except OSError as err:
        print(f"::error title=ecs-autopsy::{escape_data(f'cannot run {BINARY}: {err}')}", flush=True)
        return 127
    code = exit_status(completed.returncode)
    stdout = completed.stdout.decode("utf-8", "replace")
    stderr = completed.stderr.decode("utf-8", "replace")
    if kind == "lint" and is_json(stdout):
        print(f"(the JSON report, {len(stdout)} bytes, is turned into the annotations below)", flush=True)
    else:
        print_untrusted(stdout, sys.stdout)
    print_untrusted(stderr, sys.stdout)
    try:
        lint_inputs = split_list(environ.get("ECS_AUTOPSY_LINT"))
        annotations, headline = annotate(kind, stdout, stderr, root, lint_inputs, code)
        if code != 0 and not annotations:
            last = (stderr.strip().splitlines() or [""])[-1]
            annotations.append(
                Annotation(
                    "error",
                    f"exited with code {code}" + (f": {last}" if last else ""),
                    title=f"ecs-autopsy {command_name(kind)}",
                )
            )
        for annotation in annotations:
            print(format_annotation(annotation), flush=True)
        write_summary(summary(kind, command, code, annotations, headline))
    except Exception as err:  # noqa: BLE001 - the CLI's exit code must survive any bug here.
        print(f"::warning title=annotate.py::{escape_data(f'could not annotate the output: {err!r}')}", flush=True)
    print(f"ecs-autopsy {command_name(kind)} exited with code {code}", flush=True)
    return code


def parse(kind: str, output: str, stderr: str, exit_code: int, lint_inputs: list[str]) -> int:
    root = os.environ.get("GITHUB_WORKSPACE") or os.getcwd()
    annotations, headline = annotate(kind, output, stderr, root, lint_inputs, exit_code)
    for annotation in annotations:
        print(format_annotation(annotation))
    write_summary(summary(kind, [BINARY, command_name(kind)], exit_code, annotations, headline))
    return exit_code


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="run ecs-autopsy as action.yml does and annotate its output")
    run_parser.add_argument("kind", choices=KINDS)
    parse_parser = commands.add_parser("parse", help="annotate output saved earlier")
    parse_parser.add_argument("--kind", choices=KINDS, required=True)
    parse_parser.add_argument("--stderr", help="a file holding what ecs-autopsy wrote to stderr")
    parse_parser.add_argument("--exit-code", type=int, default=0, help="the exit code to end with")
    parse_parser.add_argument("--lint-inputs", default="", help="the paths given to lint, to resolve file names")
    parse_parser.add_argument("output", nargs="?", default="-", help="ecs-autopsy's stdout (default: stdin)")
    args = parser.parse_args(argv)
    if args.command == "run":
        return run(args.kind)
    if args.output == "-":
        output = sys.stdin.read()
    else:
        with open(args.output, encoding="utf-8") as file:
            output = file.read()
    stderr = ""
    if args.stderr:
        with open(args.stderr, encoding="utf-8") as file:
            stderr = file.read()
    return parse(args.kind, output, stderr, args.exit_code, split_list(args.lint_inputs))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
