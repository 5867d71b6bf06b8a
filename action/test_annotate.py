"""Tests of the GitHub Action's scripts: annotate.py and install.sh. Standard library only.

    python3 -m unittest action/test_annotate.py

The end-to-end tests run the real CLI named by ECS_AUTOPSY_BIN on a copy of
examples/team-rules that is broken on purpose, exactly as action.yml runs it
(`annotate.py run check|test|lint` with the action's environment variables, `ecs-autopsy` on
PATH). Without ECS_AUTOPSY_BIN they fail when CI is set and are skipped otherwise.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import textwrap
import unittest
from contextlib import redirect_stdout
from pathlib import Path
from unittest import mock

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ANNOTATE = HERE / "annotate.py"
INSTALL = HERE / "install.sh"
TEAM_RULES = ROOT / "examples" / "team-rules"

sys.path.insert(0, str(HERE))
import annotate  # noqa: E402

BINARY = os.environ.get("ECS_AUTOPSY_BIN", "")


def running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false")


def workflow_commands(output: str) -> list[dict]:
    """The annotations in a step's log, read as GitHub reads them: nothing between
    `::stop-commands::TOKEN` and `::TOKEN::` counts."""
    annotations = []
    stopped_by = None
    for line in output.splitlines():
        if stopped_by is not None:
            if line == f"::{stopped_by}::":
                stopped_by = None
            continue
        stop = re.match(r"^::stop-commands::(.+)$", line)
        if stop:
            stopped_by = stop[1]
            continue
        match = re.match(r"^::(error|warning|notice)(?: ([^:]*))?::(.*)$", line)
        if not match:
            continue
        properties = {}
        for part in (match[2] or "").split(","):
            if part:
                name, value = part.split("=", 1)
                properties[name] = unescape(value)
        annotations.append({"level": match[1], **properties, "message": unescape(match[3])})
    return annotations


def unescape(text: str) -> str:
    for escaped, raw in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(escaped, raw)
    return text


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} is not in {path}")


class Escaping(unittest.TestCase):
    def test_data(self):
        self.assertEqual(annotate.escape_data("50% done\r\nnext: a,b"), "50%25 done%0D%0Anext: a,b")

    def test_property(self):
        self.assertEqual(annotate.escape_property("a:b,c%d\ne"), "a%3Ab%2Cc%25d%0Ae")

    def test_percent_first(self):
        # `%0A` typed in a message must not come out as a new line.
        self.assertEqual(annotate.escape_data("%0A"), "%250A")

    def test_annotation_line(self):
        line = annotate.format_annotation(
            annotate.Annotation(
                "error", "two\nlines: 100%", title="rule x: a, b", file="rules/x.rhai", line=3, col=7
            )
        )
        self.assertEqual(
            line, "::error file=rules/x.rhai,line=3,col=7,title=rule x%3A a%2C b::two%0Alines: 100%25"
        )

    def test_annotation_without_place(self):
        line = annotate.format_annotation(annotate.Annotation("warning", "m", line=3))
        self.assertEqual(line, "::warning::m")

    def test_round_trip(self):
        original = annotate.Annotation("notice", "a\r\nb%c::d", title="t:1,2", file="a,b:c.toml", line=1)
        [parsed] = workflow_commands(annotate.format_annotation(original))
        self.assertEqual(parsed["message"], original.message)
        self.assertEqual(parsed["title"], original.title)
        self.assertEqual(parsed["file"], original.file)


class Crafted(unittest.TestCase):
    """The parsers, on output written here in the CLI's formats."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = Path(self.tmp.name)
        self.addCleanup(self.tmp.cleanup)
        cwd = os.getcwd()
        os.chdir(self.root)
        self.addCleanup(os.chdir, cwd)

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    def test_lint_json(self):
        self.write(
            "deploy/taskdef.json",
            """
            {
              "family": "checkout",
              "containerDefinitions": [
                {"name": "app", "image": "app:1.0"},
                {
                  "name": "sidecar",
                  "image": "proxy:latest"
                }
              ]
            }
            """,
        )
        self.write("rules/x.rhai", "// a rule\n")
        report = {
            "findings": [
                {
                    "rule": "mutable-image-tag",
                    "severity": "warning",
                    "task_definition": "checkout",
                    "container": "sidecar",
                    "message": 'runs "proxy:latest"',
                    "hint": "pin it",
                    "evidence": [
                        {"path": "calls[0].response.taskDefinition.containerDefinitions[1].image",
                         "value": "proxy:latest", "label": "taskdef.json: .containerDefinitions[1].image"}
                    ],
                },
                {
                    "rule": "stop-timeout",
                    "severity": "info",
                    "task_definition": "checkout",
                    "container": "app",
                    "message": "no stopTimeout",
                    "evidence": [
                        {"path": "x", "value": None, "label": "taskdef.json: .containerDefinitions[0].stopTimeout"}
                    ],
                },
            ],
            "rule_errors": [{"rule": "x", "file": "rules/x.rhai", "message": "Division by zero", "position": "1:4"}],
        }
        annotations, _ = annotate.annotate("lint", json.dumps(report), "", str(self.root), ["deploy/taskdef.json"])
        self.assertEqual(
            [(a.level, a.file, a.line, a.col) for a in annotations],
            [
                ("warning", "deploy/taskdef.json", 7, 7),
                # The key is absent: the container definition it belongs to.
                ("notice", "deploy/taskdef.json", 4, 5),
                ("error", "rules/x.rhai", 1, 4),
            ],
        )
        self.assertEqual(annotations[0].title, "mutable-image-tag: checkout container sidecar")
        self.assertEqual(annotations[0].message, 'runs "proxy:latest"\nfix: pin it')

    def test_lint_label_inside_a_folder(self):
        self.write("defs/a/taskdef.json", '{"containerDefinitions": [{"image": "x"}]}')
        self.write("defs/b/taskdef.json", '{\n"containerDefinitions": [\n{"image": "y"}]}')
        finding = {"evidence": [{"path": "p", "label": "b/taskdef.json: .containerDefinitions[0].image"}]}
        self.assertEqual(annotate.locate_evidence(finding, ["defs"]), ("defs/b/taskdef.json", 3, 2))

    def test_lint_bundle_evidence_path(self):
        self.write("bundle.json", '{"calls": [\n {"response": {"tasks": [\n  {"stopCode": "X"}]}}]}')
        finding = {"evidence": [{"path": "calls[0].response.tasks[0].stopCode", "label": None}]}
        self.assertEqual(annotate.locate_evidence(finding, ["bundle.json"]), ("bundle.json", 3, 4))

    def test_json_locate(self):
        text = '{"a\\"b": [1, {"c": [true, {"d": "}]"}]}], "e": null}'
        self.assertEqual(annotate.json_locate(text, ["e"]), (1, 43))
        self.assertEqual(annotate.json_locate(text, ['a"b', 1, "c", 1, "d"]), (1, 28))
        self.assertEqual(annotate.json_locate(text, ["missing"]), (1, 1))
        self.assertIsNone(annotate.json_locate("not json", ["a"]))
        self.assertEqual(annotate.json_path_tokens('.a[2]."b.c"'), ["a", 2, "b.c"])

    def test_check(self):
        self.write("rules/bad.rhai", "x\n")
        stdout = textwrap.dedent(
            """\
            rules/bad.rhai:14:21: Unexpected ';'
            rules/other.rhai:1:1: docs: doc headings must be exactly ["## What it means"], found []
            missing: cannot read rule directory: No such file or directory (os error 2)

            checked 2 rule file(s): 3 errors
            """
        )
        annotations, headline = annotate.annotate("check", stdout, "", str(self.root), [])
        self.assertEqual(headline, "checked 2 rule file(s): 3 errors")
        self.assertEqual(
            [(a.file, a.line, a.col, a.message) for a in annotations],
            [
                ("rules/bad.rhai", 14, 21, "Unexpected ';'"),
                ("rules/other.rhai", 1, 1, 'docs: doc headings must be exactly ["## What it means"], found []'),
                (None, None, None, "missing: cannot read rule directory: No such file or directory (os error 2)"),
            ],
        )

    def test_rules_test(self):
        case = "rules/fixtures/r/c1"
        self.write(f"{case}/expected.txt", "# header\n\nr warning task 1\n  old message\n  evidence: a = 1\n")
        self.write(
            f"{case}/case.toml",
            'description = "d"\nexpect = ["r"]\nok = ["near-miss"]\ntodo = []\n',
        )
        self.write("rules/fixtures/r/c2/case.toml", 'description = "d"\nexpect = ["r"]\ntodo_reason = "later"\n')
        self.write("rules/r.rhai", "fn check(ev) { [] }\n")
        stdout = textwrap.dedent(
            f"""\
            FAIL  {case}
                  `near-miss` must not fire (near miss)
                  rule `r` failed: Division by zero: 1 / 0
                  findings differ from expected.txt (- expected, + actual):
                      
                    r warning task 1
                  -   old message
                  +   new message
                      evidence: a = 1
                  + 
                  + rule error r (rules/r.rhai:1:16): Division by zero: 1 / 0
            todo  rules/fixtures/r/c2
                  known gap: later
                  expected `r` to fire; fired: {{}}
            ok    rules/fixtures/r/c3

            3 case(s), 2 rule(s): 1 passed, 1 failed, 1 known gap(s)
            """
        )
        annotations, headline = annotate.annotate("test", stdout, "", str(self.root), [])
        self.assertEqual(headline, "3 case(s), 2 rule(s): 1 passed, 1 failed, 1 known gap(s)")
        self.assertEqual(
            [(a.level, a.file, a.line, a.col) for a in annotations],
            [
                ("error", f"{case}/case.toml", 3, None),
                ("error", "rules/r.rhai", 1, 16),
                ("error", f"{case}/expected.txt", 4, None),
                ("notice", "rules/fixtures/r/c2/case.toml", 3, None),
            ],
        )
        self.assertIn("+   new message", annotations[2].message)

    def test_rule_error_in_several_cases_is_one_annotation(self):
        self.write("r.rhai", "x\n")
        block = "FAIL  {0}\n      rule `r` failed: boom\n      + rule error r (r.rhai:2:3): boom\n"
        annotations, _ = annotate.annotate("test", block.format("a") + block.format("b"), "", str(self.root), [])
        rule_errors = [a for a in annotations if a.file == "r.rhai"]
        self.assertEqual(len(rule_errors), 1)
        self.assertEqual(rule_errors[0].also_in, ["b"])
        self.assertIn("(also in b)", annotate.format_annotation(rule_errors[0]))

    def test_stderr(self):
        self.write("team/bad.rhai", "x\n")
        stderr = (
            "ecs-autopsy: warning: ignored\n"
            "ecs-autopsy: error: team/bad.rhai:2:1: Expecting '}' to end this object map literal\n"
            "ecs-autopsy: error: rule x failed (team/bad.rhai:5:9): Division by zero\n"
            "ecs-autopsy: error: no case folders (with case.toml) under empty\n"
        )
        annotations = annotate.parse_stderr(stderr, str(self.root), "test")
        self.assertEqual(
            [(a.title, a.file, a.line, a.col) for a in annotations],
            [
                ("rule does not load", "team/bad.rhai", 2, 1),
                ("rule x failed", "team/bad.rhai", 5, 9),
                ("ecs-autopsy rules test", None, None, None),
            ],
        )

    def test_paths_relative_to_the_workspace(self):
        self.assertEqual(annotate.display_path("./a/b.rhai", str(self.root)), "a/b.rhai")
        self.assertEqual(annotate.display_path(str(self.root / "a"), str(self.root)), "a")
        self.assertTrue(os.path.isabs(annotate.display_path("/elsewhere/x", str(self.root))))

    def test_summary(self):
        summary_file = self.root / "summary.md"
        with mock.patch.dict(os.environ, {"GITHUB_STEP_SUMMARY": str(summary_file), "GITHUB_REPOSITORY": "o/r",
                                          "GITHUB_SHA": "abc", "GITHUB_SERVER_URL": "https://github.com"}):
            annotate.write_summary(
                annotate.summary(
                    "test", ["ecs-autopsy", "rules", "test", "."], 1,
                    [annotate.Annotation("error", "a | b\nmore", title="t", file="x/case.toml", line=2)], "1 failed",
                )
            )
        text = summary_file.read_text(encoding="utf-8")
        self.assertIn("### `ecs-autopsy rules test` failed (exit code 1)", text)
        self.assertIn("| ❌ error | [x/case.toml:2](https://github.com/o/r/blob/abc/x/case.toml#L2) | t: a \\| b |", text)

    def test_parse_command_keeps_the_exit_code(self):
        output = self.write("out.txt", "FAIL  c\n      expected `r` to fire; fired: {}\n")
        printed = io.StringIO()
        with redirect_stdout(printed), mock.patch.dict(os.environ, {"GITHUB_STEP_SUMMARY": ""}):
            code = annotate.main(["parse", "--kind", "test", "--exit-code", "1", str(output)])
        self.assertEqual(code, 1)
        [annotation] = workflow_commands(printed.getvalue())
        self.assertEqual(annotation["file"], "c/case.toml")


class FakeCli(unittest.TestCase):
    """`annotate.py run` with a stand-in for ecs-autopsy: the exit code always comes through."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.dir = Path(self.tmp.name)
        (self.dir / "bin").mkdir()

    def fake(self, script: str) -> None:
        path = self.dir / "bin" / "ecs-autopsy"
        path.write_text("#!/bin/sh\n" + script, encoding="utf-8")
        path.chmod(0o755)

    def run_action(self, kind: str, **extra: str) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ECS_AUTOPSY_", "GITHUB_"))}
        env.update(PATH=f"{self.dir / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}", **extra)
        return subprocess.run(
            [sys.executable, str(ANNOTATE), "run", kind], cwd=self.dir, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False,
        )

    def test_exit_code_passes_through(self):
        for code in (0, 1, 2, 3):
            with self.subTest(code=code):
                self.fake(f"echo 'checked 1 rule file(s): no errors'\nexit {code}\n")
                self.assertEqual(self.run_action("check").returncode, code)

    def test_killed_cli_is_a_failure(self):
        self.fake("kill -TERM $$\n")
        self.assertEqual(self.run_action("test").returncode, 128 + 15)

    def test_missing_cli_is_a_failure(self):
        env = {"PATH": str(self.dir / "bin")}
        result = subprocess.run(
            [sys.executable, str(ANNOTATE), "run", "check"], cwd=self.dir, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False,
        )
        self.assertEqual(result.returncode, 127)
        self.assertIn("::error title=ecs-autopsy::cannot run ecs-autopsy", result.stdout)

    def test_failure_without_parsable_output_is_still_annotated(self):
        self.fake("echo 'something new' >&2\nexit 2\n")
        result = self.run_action("test")
        self.assertEqual(result.returncode, 2)
        self.assertEqual(
            workflow_commands(result.stdout),
            [{"level": "error", "title": "ecs-autopsy rules test", "message": "exited with code 2: something new"}],
        )

    def test_cli_output_cannot_issue_workflow_commands(self):
        self.fake("echo '::error file=evil::injected'\necho '::add-mask::x'\nexit 0\n")
        result = self.run_action("check")
        self.assertEqual(result.returncode, 0)
        self.assertIn("::error file=evil::injected", result.stdout)
        self.assertEqual(workflow_commands(result.stdout), [])

    def test_a_bug_here_keeps_the_exit_code(self):
        self.fake("echo 'FAIL  x'\nexit 1\n")
        env = {"PATH": f"{self.dir / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}", "GITHUB_STEP_SUMMARY": ""}
        printed = io.StringIO()
        with mock.patch.dict(os.environ, env), mock.patch.object(annotate, "annotate", side_effect=RuntimeError("bug")):
            cwd = os.getcwd()
            os.chdir(self.dir)
            try:
                with redirect_stdout(printed):
                    code = annotate.run("test")
            finally:
                os.chdir(cwd)
        self.assertEqual(code, 1)
        self.assertIn("::warning title=annotate.py::could not annotate", printed.getvalue())

    def test_command_line(self):
        env = {
            "ECS_AUTOPSY_RULES": "team-rules\n'more rules'",
            "ECS_AUTOPSY_LINT": "deploy/taskdef.json deploy/services",
            "ECS_AUTOPSY_ARGS": "--strict -v",
        }
        self.assertEqual(
            annotate.build_command("test", env),
            ["ecs-autopsy", "--color", "never", "--no-config", "--strict", "-v", "rules", "test", "team-rules", "more rules"],
        )
        self.assertEqual(
            annotate.build_command("lint", {**env, "ECS_AUTOPSY_CONFIG": "ecs-autopsy.toml"}),
            ["ecs-autopsy", "--color", "never", "--config", "ecs-autopsy.toml", "--strict", "-v",
             "--rules", "team-rules", "--rules", "more rules", "--format", "json", "lint",
             "deploy/taskdef.json", "deploy/services"],
        )
        self.assertEqual(annotate.build_command("check", {})[-3:], ["rules", "check", "."])


class ActionMetadata(unittest.TestCase):
    """action.yml runs these scripts the way the tests here do."""

    def test_steps(self):
        text = (ROOT / "action.yml").read_text(encoding="utf-8")
        self.assertIn('bash "$GITHUB_ACTION_PATH/action/install.sh"', text)
        for kind in annotate.KINDS:
            self.assertIn(f'python3 "$GITHUB_ACTION_PATH/action/annotate.py" run {kind}\n', text)
        for name, source in (
            ("ECS_AUTOPSY_VERSION", "inputs.version"),
            ("ECS_AUTOPSY_RULES", "inputs.rules"),
            ("ECS_AUTOPSY_LINT", "inputs.lint"),
            ("ECS_AUTOPSY_ARGS", "inputs.args"),
            ("ECS_AUTOPSY_CONFIG", "inputs.config"),
        ):
            self.assertIn(f"{name}: ${{{{ {source} }}}}", text)
        # Inputs reach the scripts through the environment only, never spliced into a script.
        for line in text.splitlines():
            if "${{ inputs." in line:
                self.assertRegex(line.strip(), r"^(ECS_AUTOPSY_\w+: |if: )")


class Install(unittest.TestCase):
    """install.sh against a release folder served as file:// URLs."""

    def setUp(self):
        if not shutil.which("curl") or not shutil.which("bash"):
            if running_in_ci():
                self.fail("install.sh needs bash and curl")
            self.skipTest("install.sh needs bash and curl")
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.dir = Path(self.tmp.name)
        self.release = self.dir / "release"
        self.release.mkdir()
        self.archive = self.release / "ecs-autopsy-9.9.9-x86_64-unknown-linux-gnu.tar.gz"
        with tarfile.open(self.archive, "w:gz") as tar:
            folder = "ecs-autopsy-9.9.9-x86_64-unknown-linux-gnu"
            for name, text, mode in (
                ("ecs-autopsy", "#!/bin/sh\necho 'ecs-autopsy 9.9.9'\n", 0o755),
                ("README.md", "# ecs-autopsy\n", 0o644),
            ):
                data = text.encode()
                info = tarfile.TarInfo(f"{folder}/{name}")
                info.size, info.mode = len(data), mode
                tar.addfile(info, io.BytesIO(data))
        digest = hashlib.sha256(self.archive.read_bytes()).hexdigest()
        (self.release / "SHA256SUMS").write_text(
            f"{'0' * 64}  ecs-autopsy-9.9.9-aarch64-unknown-linux-gnu.tar.gz\n"
            f"{digest}  {self.archive.name}\n",
            encoding="utf-8",
        )
        (self.dir / "runner").mkdir()

    def install(self, os_name="Linux", arch="X64") -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ECS_AUTOPSY_", "GITHUB_", "RUNNER_"))}
        env.update(
            RUNNER_OS=os_name, RUNNER_ARCH=arch, RUNNER_TEMP=str(self.dir / "runner"),
            GITHUB_PATH=str(self.dir / "github_path"), GITHUB_OUTPUT=str(self.dir / "github_output"),
            ECS_AUTOPSY_VERSION="v9.9.9", ECS_AUTOPSY_DOWNLOAD_URL=self.release.as_uri(),
        )
        return subprocess.run(
            ["bash", str(INSTALL)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False
        )

    def test_installs_on_path(self):
        result = self.install()
        self.assertEqual(result.returncode, 0, result.stdout)
        [directory] = (self.dir / "github_path").read_text(encoding="utf-8").split()
        binary = Path(directory) / "ecs-autopsy"
        self.assertEqual(subprocess.run([str(binary)], stdout=subprocess.PIPE, text=True, check=True).stdout,
                         "ecs-autopsy 9.9.9\n")
        self.assertEqual((self.dir / "github_output").read_text(encoding="utf-8"), "version=9.9.9\n")

    def test_refuses_an_archive_that_does_not_match(self):
        with open(self.archive, "ab") as archive:
            archive.write(b"tampered")
        result = self.install()
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("but SHA256SUMS says", result.stdout)
        self.assertFalse((self.dir / "github_path").exists())

    def test_no_archive_for_the_runner(self):
        result = self.install(arch="ARM64")
        self.assertNotEqual(result.returncode, 0)
        self.assertFalse((self.dir / "github_path").exists())
        result = self.install(os_name="Windows")
        self.assertEqual(result.returncode, 1)
        self.assertIn("no release binary for Windows", result.stdout)


class EndToEnd(unittest.TestCase):
    """The real CLI (ECS_AUTOPSY_BIN) on a team rule repository with failures in it, run as
    action.yml runs it."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.base = Path(cls.tmp.name)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def setUp(self):
        if not BINARY:
            if running_in_ci():
                self.fail("ECS_AUTOPSY_BIN is not set: these tests run the ecs-autopsy binary it names")
            self.skipTest("ECS_AUTOPSY_BIN is not set")
        if not os.access(BINARY, os.X_OK):
            self.fail(f"ECS_AUTOPSY_BIN={BINARY} is not an executable file")
        bin_dir = self.base / "bin"
        if not bin_dir.exists():
            bin_dir.mkdir()
            (bin_dir / "ecs-autopsy").symlink_to(Path(BINARY).resolve())

    def repository(self, name: str, broken: bool) -> Path:
        repo = self.base / name
        if repo.exists():
            return repo
        shutil.copytree(TEAM_RULES, repo)
        if broken:
            self.break_repository(repo)
        return repo

    def break_repository(self, repo: Path) -> None:
        # A finding that changed: expected.txt no longer says what the rule finds.
        expected = repo / "fixtures/drain-stop-timeout/deployment-kill-default-timeout/expected.txt"
        text = expected.read_text(encoding="utf-8")
        self.assertIn("30.4 s after stoppingAt", text)
        expected.write_text(text.replace("30.4 s after stoppingAt", "31.4 s after stoppingAt"), encoding="utf-8")
        # A case whose expectations are wrong: graceful-stop fires but is not expected any more.
        case = repo / "fixtures/drain-stop-timeout/ok-stop-timeout-90/case.toml"
        text = case.read_text(encoding="utf-8")
        self.assertIn('expect = ["graceful-stop"]', text)
        case.write_text(text.replace('expect = ["graceful-stop"]', "expect = []"), encoding="utf-8")
        # A rule that fails at run time, on one container of its lint cases.
        rule = repo / "mutable-image-tag.rhai"
        text = rule.read_text(encoding="utf-8")
        anchor = "            let image = c.image;\n"
        self.assertIn(anchor, text)
        rule.write_text(
            text.replace(anchor, anchor + '            if c.name == "metrics" { let broken = 1 / 0; }\n', 1),
            encoding="utf-8",
        )
        # A rule file that does not parse, in a second rule directory.
        (repo / "broken").mkdir()
        (repo / "broken/does-not-parse.rhai").write_text(
            "//! ## What it means\n//! Nothing.\n\nfn check(ev) {\n    let findings = [;\n    findings\n}\n",
            encoding="utf-8",
        )

    def run_action(self, repo: Path, kind: str, rules: str = ".", lint: str = "") -> tuple[int, list[dict], str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ECS_AUTOPSY_", "GITHUB_"))}
        summary = repo / f"summary-{kind}.md"
        summary.unlink(missing_ok=True)
        env.update(
            PATH=f"{self.base / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
            GITHUB_WORKSPACE=str(repo),
            GITHUB_STEP_SUMMARY=str(summary),
            ECS_AUTOPSY_RULES=rules,
            ECS_AUTOPSY_LINT=lint,
            ECS_AUTOPSY_ARGS="",
            ECS_AUTOPSY_CONFIG="",
        )
        result = subprocess.run(
            [sys.executable, str(ANNOTATE), "run", kind], cwd=repo, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False,
        )
        annotations = workflow_commands(result.stdout)
        for annotation in annotations:
            if "file" in annotation:
                self.assertTrue((repo / annotation["file"]).is_file(), f"{annotation} names no file\n{result.stdout}")
        text = summary.read_text(encoding="utf-8") if summary.exists() else ""
        return result.returncode, annotations, result.stdout + text

    def find(self, annotations: list[dict], file: str) -> list[dict]:
        return [a for a in annotations if a.get("file") == file]

    def test_clean_rules_pass(self):
        repo = self.repository("clean", broken=False)
        for kind in ("check", "test"):
            with self.subTest(kind=kind):
                code, annotations, log = self.run_action(repo, kind)
                self.assertEqual(code, 0, log)
                self.assertEqual([a for a in annotations if a["level"] == "error"], [], log)

    def test_check_points_at_the_rule_that_does_not_parse(self):
        repo = self.repository("broken", broken=True)
        code, annotations, log = self.run_action(repo, "check", rules=". broken")
        self.assertEqual(code, 1, log)
        [error] = self.find(annotations, "broken/does-not-parse.rhai")
        self.assertEqual((error["level"], error["line"]), ("error", "5"), log)
        self.assertIn("| ❌ error | broken/does-not-parse.rhai:5 |", log)

    def test_rules_test_points_at_each_failing_file(self):
        repo = self.repository("broken", broken=True)
        code, annotations, log = self.run_action(repo, "test")
        self.assertEqual(code, 1, log)
        expected = "fixtures/drain-stop-timeout/deployment-kill-default-timeout/expected.txt"
        [changed] = self.find(annotations, expected)
        self.assertEqual(changed["line"], str(line_of(repo / expected, "31.4 s after stoppingAt")), log)
        self.assertIn("+   Container", changed["message"])
        case = "fixtures/drain-stop-timeout/ok-stop-timeout-90/case.toml"
        [expectation] = self.find(annotations, case)
        self.assertEqual(expectation["line"], str(line_of(repo / case, "expect = []")), log)
        self.assertIn("`graceful-stop` fired but is not in expect", expectation["message"])
        [runtime] = self.find(annotations, "mutable-image-tag.rhai")
        self.assertEqual(runtime["line"], str(line_of(repo / "mutable-image-tag.rhai", "1 / 0")), log)
        self.assertIn("Division by zero", runtime["message"])
        self.assertIn("also in fixtures/mutable-image-tag/", runtime["message"])
        self.assertIn("### `ecs-autopsy rules test` failed (exit code 1)", log)

    def test_rules_test_with_a_rule_that_does_not_load_exits_2(self):
        repo = self.repository("broken", broken=True)
        code, annotations, log = self.run_action(repo, "test", rules=". broken")
        self.assertEqual(code, 2, log)
        [load_error] = self.find(annotations, "broken/does-not-parse.rhai")
        self.assertEqual((load_error["title"], load_error["line"]), ("rule does not load", "5"), log)
        self.assertTrue(self.find(annotations, "fixtures/drain-stop-timeout/ok-stop-timeout-90/case.toml"), log)

    def test_lint_points_at_the_task_definition_line(self):
        repo = self.repository("broken", broken=True)
        folder = "fixtures/stop-timeout-below-deregistration-delay/ec2-timeout-45-delay-60/aws-cli"
        code, annotations, log = self.run_action(repo, "lint", lint=folder)
        self.assertEqual(code, 1, log)
        definition = f"{folder}/describe-task-definition.json"
        [finding] = self.find(annotations, definition)
        self.assertEqual(finding["level"], "warning")
        self.assertEqual(finding["line"], str(line_of(repo / definition, '"stopTimeout"')), log)
        self.assertTrue(finding["title"].startswith("stop-timeout-below-deregistration-delay: "), log)

    def test_lint_rule_error_exits_2(self):
        repo = self.repository("broken", broken=True)
        taskdef = "fixtures/mutable-image-tag/latest-and-untagged/taskdef.json"
        code, annotations, log = self.run_action(repo, "lint", lint=taskdef)
        self.assertEqual(code, 2, log)
        [runtime] = self.find(annotations, "mutable-image-tag.rhai")
        self.assertEqual(runtime["line"], str(line_of(repo / "mutable-image-tag.rhai", "1 / 0")), log)

    def test_lint_findings_on_a_task_definition(self):
        repo = self.repository("clean", broken=False)
        taskdef = "fixtures/mutable-image-tag/latest-and-untagged/taskdef.json"
        code, annotations, log = self.run_action(repo, "lint", lint=taskdef)
        self.assertEqual(code, 1, log)
        lines = [a["line"] for a in self.find(annotations, taskdef)]
        images = [n for n, line in enumerate((repo / taskdef).read_text(encoding="utf-8").split("\n"), 1)
                  if '"image"' in line]
        self.assertEqual(lines, [str(n) for n in images[:3]], log)


if __name__ == "__main__":
    unittest.main()
