#!/usr/bin/env bash
# The action's first step: the released wouldblock binary for this runner, checked against
# its published SHA-256, put on PATH. Sets `found=true` as a step output when it did; false
# (and the action builds from source instead) when there is no release for this ref/runner.
# Reads ACTION_REPO, ACTION_REF and VERSION from the environment.
set -euo pipefail

case "${RUNNER_OS:-}-${RUNNER_ARCH:-}" in
  Linux-X64) target=x86_64-unknown-linux-gnu ;;
  Linux-ARM64) target=aarch64-unknown-linux-gnu ;;
  macOS-ARM64) target=aarch64-apple-darwin ;;
  macOS-X64) target=x86_64-apple-darwin ;;
  Windows-X64) target=x86_64-pc-windows-msvc ;;
  *) target="" ;;
esac
tag="${VERSION:-${ACTION_REF:-}}"
found=false
if [ -n "$target" ] && [[ "$tag" == v* ]] && [ -n "${ACTION_REPO:-}" ]; then
  base="${GITHUB_SERVER_URL:-https://github.com}/$ACTION_REPO/releases/download/$tag"
  asset="wouldblock-$tag-$target.tar.gz"
  dir="${RUNNER_TEMP:-/tmp}/wouldblock-$tag"
  mkdir -p "$dir"
  if curl -fsSL --retry 3 -o "$dir/$asset" "$base/$asset" &&
     curl -fsSL --retry 3 -o "$dir/$asset.sha256" "$base/$asset.sha256"; then
    want="$(cut -d' ' -f1 < "$dir/$asset.sha256")"
    if command -v sha256sum >/dev/null; then
      got="$(sha256sum "$dir/$asset" | cut -d' ' -f1)"
    else
      got="$(shasum -a 256 "$dir/$asset" | cut -d' ' -f1)"
    fi
    if [ "$want" != "$got" ]; then
      echo "::error::$asset: SHA-256 $got, published $want"
      exit 1
    fi
    tar -xzf "$dir/$asset" -C "$dir"
    echo "$dir" >> "$GITHUB_PATH"
    found=true
    echo "wouldblock $tag for $target: downloaded"
  else
    echo "no wouldblock release $tag for $target: building from source"
  fi
else
  echo "no release to download (ref '${tag}', runner ${RUNNER_OS:-?}-${RUNNER_ARCH:-?}): building from source"
fi
echo "found=$found" >> "$GITHUB_OUTPUT"
