#!/usr/bin/env bash
# The fault-injection suite at full strength (issue: nothing lost), for the figures of a closing
# note: 20 random povray kills in a render, and the master SIGKILLed at random moments and
# resumed RUNS times locally and RUNS times under mpirun (make test runs those loops 3 times).
# Prints each test's own counts: kills survived, bands re-used and rendered after each resume.
# Usage: bench/faults.sh [RUNS]   (default 10; needs a built build/taskdist_tests: `make build`;
#        as root, the full-disk test mounts a small tmpfs). TASKDIST_FAULT_SEED=N repeats a run.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
[ -x build/taskdist_tests ] || { echo "build first: make build" >&2; exit 1; }
TASKDIST_FAULT_RUNS=$runs build/taskdist_tests --gtest_filter='FaultTest.*:JournalTest.*' 2>&1 |
  grep -E '^\[ *(RUN|OK|FAILED|PASSED) *\]|seed|kills|killed at|runs, bands|Failure'
