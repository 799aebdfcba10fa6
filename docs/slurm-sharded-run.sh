#!/usr/bin/env bash
# vigil: one spec tuned by a Slurm job array, then merged.
#   sbatch docs/slurm-sharded-run.sh            (submits the array and the merge)
# Each array task runs shard SLURM_ARRAY_TASK_ID of SLURM_ARRAY_TASK_COUNT against the team's
# PostgreSQL registry; the merge starts only when every task succeeded (afterok). A failed
# task can be resubmitted alone (sbatch --array=K ...): it reuses the trials it had logged.
#SBATCH --job-name=vigil-shards
#SBATCH --array=1-8
#SBATCH --cpus-per-task=2
#SBATCH --mem=4G
#SBATCH --time=04:00:00
#SBATCH --output=vigil-shard-%a.log
set -euo pipefail

SPEC=${SPEC:-experiments/specs/smd.toml}
export VIGIL_DB=${VIGIL_DB:?set VIGIL_DB=postgres://user@host:5432/vigil}
export VIGIL_SHARD_GROUP=${VIGIL_SHARD_GROUP:-smd-$(date +%Y-%m)}

if [ "${1:-}" = "--merge" ]; then
  exec vigil -q run "$SPEC" --merge --report "reports/$(basename "$SPEC" .toml).html"
fi

if [ -z "${SLURM_ARRAY_TASK_ID:-}" ]; then
  echo "submit with sbatch: this script runs as an array task" >&2
  exit 2
fi

# The first task submits the merge, to run after the whole array succeeded.
if [ "$SLURM_ARRAY_TASK_ID" = "1" ]; then
  sbatch --dependency="afterok:${SLURM_ARRAY_JOB_ID}" --job-name=vigil-merge \
    --cpus-per-task=2 --mem=8G --time=01:00:00 --output=vigil-merge.log \
    --export=ALL,SPEC="$SPEC" "$0" --merge
fi

exec vigil -q run "$SPEC" --shard "${SLURM_ARRAY_TASK_ID}/${SLURM_ARRAY_TASK_COUNT}" \
  --threads "${SLURM_CPUS_PER_TASK:-0}" --json
