#!/usr/bin/env bash
# The action's suite step: `wouldblock suite` with the action's inputs, read from the
# environment (never interpolated into this script), the JSON report and JUnit written, and
# the outputs set. Exits with the suite's exit code.
set -uo pipefail

args=(suite --format json --output "$REPORT" --wasi "$WASI" --retries "${RETRIES:-0}")
if [ -n "$CASES" ]; then
  args+=(--cases "$CASES")
elif [ -n "$GUESTS" ] && [ -n "$EXPECTATIONS" ]; then
  args+=(--guests "$GUESTS" --expectations "$EXPECTATIONS")
else
  echo "::error::wouldblock: give 'cases', or both 'guests' and 'expectations'"
  echo "exit-code=2" >> "$GITHUB_OUTPUT"
  exit 2
fi
[ -n "$FILTER" ] && args+=(--filter "$FILTER")
[ -n "$PLATFORM" ] && args+=(--platform "$PLATFORM")
[ -n "$JUNIT" ] && args+=(--junit "$JUNIT")
[ -n "${RECORDINGS:-}" ] && args+=(--recordings "$RECORDINGS")
[ "$STEP_SUMMARY" = "true" ] || args+=(--no-step-summary)

wouldblock "${args[@]}"
status=$?
{
  echo "report=$REPORT"
  echo "junit=$JUNIT"
  echo "recordings=${RECORDINGS:-}"
  echo "exit-code=$status"
} >> "$GITHUB_OUTPUT"
exit "$status"
