#!/usr/bin/env bash
# Start, seed, test and always stop a real target: bash tools/run_real_target.sh TARGET [pytest args]
exec python3 "$(dirname "${BASH_SOURCE[0]}")/run_real_target.py" "$@"
