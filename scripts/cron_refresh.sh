#!/usr/bin/env bash
# Scheduled refresh: quiet on success, one mail-able message on failure.
# Logs go to DATA_DIR/logs/refresh-YYYY-MM-DD.log; the pipeline's own lock makes an
# overlapping run exit 75 at once without touching anything.
# Usage (crontab):  17 3 * * *  /path/to/project/scripts/cron_refresh.sh [refresh options]
# It keeps DATA_DIR/site/index.html and DATA_DIR/export/* up to date too (OUTPUTS= to stop).
set -uo pipefail
project=$(cd "$(dirname "$0")/.." && pwd)
data_dir=${DATA_DIR:-$project/data}
python=${PYTHON:-$project/.venv/bin/python}
read -ra outputs <<<"${OUTPUTS---report --export bibtex,csv,jsonl,csljson,ris}"
mkdir -p "$data_dir/logs"
log="$data_dir/logs/refresh-$(date -u +%Y-%m-%d).log"
{
  echo "== $(date -u +%Y-%m-%dT%H:%M:%SZ) refresh"
  if [ -z "${PYTHON:-}" ]; then
    # As `make refresh` does: create .venv on first use, update it when pyproject.toml changed.
    make -s -C "$project" .venv/.installed-runtime || exit 1
  fi
  cd "$project" && "$python" -m pipeline refresh --data-dir "$data_dir" "${outputs[@]}" "$@"
} >>"$log" 2>&1
code=$?
case $code in
  0) ;;
  75) echo "arxiv-list-pipeline: skipped, an earlier refresh of $data_dir is still running" ;;
  3) echo "arxiv-list-pipeline: $data_dir refreshed, but a list was skipped (exit 3):"
     grep "list skipped" "$log" | tail -n 5 ;;
  *) echo "arxiv-list-pipeline: refresh of $data_dir failed (exit $code); the previous tables were kept."
     echo "Last lines of $log:"
     tail -n 15 "$log" ;;
esac
exit $code
