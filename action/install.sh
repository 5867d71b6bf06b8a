#!/usr/bin/env bash
# Installs the ecs-autopsy release binary for this runner and puts it on PATH, for action.yml.
#
# ECS_AUTOPSY_VERSION  a release tag (v0.2.0, or 0.2.0) or "latest" (the default)
# ECS_AUTOPSY_DOWNLOAD_URL
#                      where the release's files are, instead of the GitHub release (a mirror,
#                      or a file:// folder in the tests)
# RUNNER_OS, RUNNER_ARCH, RUNNER_TEMP, GITHUB_PATH, GITHUB_OUTPUT: set by GitHub Actions.
#
# The release's SHA256SUMS names one archive per target, ecs-autopsy-VERSION-TARGET.tar.gz; the
# archive for this runner is downloaded, its SHA-256 compared with that list (a mismatch stops
# here), and the folder it unpacks to is added to GITHUB_PATH.
set -euo pipefail

repository=ecs-autopsy/ecs-autopsy
version=${ECS_AUTOPSY_VERSION:-latest}

case "${RUNNER_OS:-}-${RUNNER_ARCH:-}" in
  Linux-X64) target=x86_64-unknown-linux-gnu ;;
  Linux-ARM64) target=aarch64-unknown-linux-gnu ;;
  macOS-X64) target=x86_64-apple-darwin ;;
  macOS-ARM64) target=aarch64-apple-darwin ;;
  *)
    echo "::error title=ecs-autopsy::no release binary for ${RUNNER_OS:-?} on ${RUNNER_ARCH:-?}: there are builds for Linux and macOS, on X64 and ARM64"
    exit 1
    ;;
esac

if [ -n "${ECS_AUTOPSY_DOWNLOAD_URL:-}" ]; then
  base_url=${ECS_AUTOPSY_DOWNLOAD_URL%/}
elif [ "$version" = latest ]; then
  base_url="https://github.com/$repository/releases/latest/download"
else
  base_url="https://github.com/$repository/releases/download/v${version#v}"
fi

work="${RUNNER_TEMP:?RUNNER_TEMP is not set}/ecs-autopsy-install"
rm -rf "$work"
mkdir -p "$work"
cd "$work"

download() {
  curl --fail --silent --show-error --location --retry 5 --retry-connrefused \
    --proto '=https,file' --output "$2" "$1"
}

download "$base_url/SHA256SUMS" SHA256SUMS
# The one archive for this target, as SHA256SUMS lists it ("HASH  NAME").
archives=$(awk -v suffix="-$target.tar.gz" \
  'index($2, "ecs-autopsy-") == 1 && substr($2, length($2) - length(suffix) + 1) == suffix { print $2 }' \
  SHA256SUMS)
if [ -z "$archives" ] || [ "$(printf '%s\n' "$archives" | wc -l)" -ne 1 ]; then
  echo "::error title=ecs-autopsy::$base_url/SHA256SUMS lists no single archive for $target"
  exit 1
fi
archive=$archives
expected=$(awk -v name="$archive" '$2 == name { print tolower($1) }' SHA256SUMS)

download "$base_url/$archive" "$archive"
if command -v sha256sum >/dev/null; then
  actual=$(sha256sum "$archive" | cut -d ' ' -f 1)
else
  actual=$(shasum -a 256 "$archive" | cut -d ' ' -f 1)
fi
if [ "$actual" != "$expected" ]; then
  echo "::error title=ecs-autopsy::$archive has SHA-256 $actual, but SHA256SUMS says $expected: not installing it"
  exit 1
fi
echo "$archive: SHA-256 $actual matches SHA256SUMS"

tar -xzf "$archive"
directory="$work/${archive%.tar.gz}"
if [ ! -x "$directory/ecs-autopsy" ]; then
  echo "::error title=ecs-autopsy::$archive does not hold ${archive%.tar.gz}/ecs-autopsy"
  exit 1
fi
installed=$("$directory/ecs-autopsy" --version)
echo "installed $installed ($target) in $directory"
echo "$directory" >>"${GITHUB_PATH:?GITHUB_PATH is not set}"
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  echo "version=${installed##* }" >>"$GITHUB_OUTPUT"
fi
