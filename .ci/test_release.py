"""The release path, offline: the test build packaged by .ci/package-release exactly as the
release workflow packages each target, listed in a SHA256SUMS as the workflow writes it, then
installed by the action's install.sh from a file:// "release" and run. Standard library only.

Run by .ci/lint-ci with ECS_AUTOPSY_BIN naming the binary; without it the test fails when CI is
set and is skipped otherwise.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tarfile
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BINARY = os.environ.get("ECS_AUTOPSY_BIN", "")
TARGET = "x86_64-unknown-linux-gnu"


class ReleaseThenInstall(unittest.TestCase):
    def setUp(self):
        if not BINARY:
            if os.environ.get("CI"):
                self.fail("ECS_AUTOPSY_BIN is not set: the release test needs the binary")
            self.skipTest("ECS_AUTOPSY_BIN is not set")
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.dir = Path(self.tmp.name)
        version = subprocess.run(
            [BINARY, "--version"], stdout=subprocess.PIPE, text=True, check=True
        ).stdout.split()[-1]
        self.version = version
        self.release = self.dir / "release"
        packaged = subprocess.run(
            ["bash", str(ROOT / ".ci/package-release"), version, TARGET, BINARY, str(self.release)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
        self.assertEqual(packaged.returncode, 0, packaged.stderr)
        self.archive = Path(packaged.stdout.strip())
        self.name = f"ecs-autopsy-{version}-{TARGET}"
        self.assertEqual(self.archive, self.release / f"{self.name}.tar.gz")

    def test_the_archive_holds_the_binary_docs_completions_and_man_pages(self):
        with tarfile.open(self.archive) as tar:
            members = {m.name: m for m in tar.getmembers()}
        folder = self.name
        for name in ("ecs-autopsy", "README.md", "CHANGELOG.md", "LICENSE-MIT", "LICENSE-APACHE"):
            self.assertIn(f"{folder}/{name}", members)
        self.assertTrue(members[f"{folder}/ecs-autopsy"].mode & 0o111, "executable")
        for name in ("ecs-autopsy.bash", "_ecs-autopsy", "ecs-autopsy.fish", "_ecs-autopsy.ps1", "ecs-autopsy.elv"):
            member = members.get(f"{folder}/complete/{name}")
            self.assertIsNotNone(member, name)
            self.assertGreater(member.size, 1000, name)
        pages = sorted(n.rsplit("/", 1)[1] for n in members if n.startswith(f"{folder}/man/"))
        for page in ("ecs-autopsy.1", "ecs-autopsy-replay.1", "ecs-autopsy-rules-test.1", "ecs-autopsy-generate-man.1"):
            self.assertIn(page, pages)
        # Every file is inside the one folder, none is a link out of it.
        for name, member in members.items():
            self.assertTrue(name == folder or name.startswith(f"{folder}/"), name)
            self.assertFalse(member.issym() or member.islnk(), name)

    def test_install_sh_installs_it_from_the_release_and_it_runs(self):
        digest = hashlib.sha256(self.archive.read_bytes()).hexdigest()
        # As the workflow writes it: `sha256sum ecs-autopsy-*.tar.gz > SHA256SUMS`.
        (self.release / "SHA256SUMS").write_text(f"{digest}  {self.archive.name}\n", encoding="utf-8")
        runner = self.dir / "runner"
        runner.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ECS_AUTOPSY_", "GITHUB_", "RUNNER_"))}
        env.update(
            RUNNER_OS="Linux",
            RUNNER_ARCH="X64",
            RUNNER_TEMP=str(runner),
            GITHUB_PATH=str(self.dir / "github_path"),
            GITHUB_OUTPUT=str(self.dir / "github_output"),
            ECS_AUTOPSY_VERSION=f"v{self.version}",
            ECS_AUTOPSY_DOWNLOAD_URL=self.release.as_uri(),
        )
        installed = subprocess.run(
            ["bash", str(ROOT / "action/install.sh")],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
        )
        self.assertEqual(installed.returncode, 0, installed.stdout)
        self.assertIn("matches SHA256SUMS", installed.stdout)
        [directory] = (self.dir / "github_path").read_text(encoding="utf-8").split()
        binary = Path(directory) / "ecs-autopsy"
        version = subprocess.run([str(binary), "--version"], stdout=subprocess.PIPE, text=True, check=True)
        self.assertEqual(version.stdout.strip(), f"ecs-autopsy {self.version}")
        replay = subprocess.run(
            [str(binary), "--no-config", "replay", str(ROOT / "fixtures/app-missing-config/dropped-env-var/bundle.json")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
            env={**env, "NO_COLOR": "1"},
        )
        self.assertEqual(replay.returncode, 1, replay.stderr)
        self.assertIn("app-missing-config", replay.stdout)
        # The packaged bash completion is valid bash.
        completion = Path(directory) / "complete" / "ecs-autopsy.bash"
        subprocess.run(["bash", "-n", str(completion)], check=True)


if __name__ == "__main__":
    unittest.main()
