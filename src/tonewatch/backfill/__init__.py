"""backfill stage: score historical messages in partitions, locally or on a Dask cluster.

``run_backfill(FILE_OR_DB, engine="local"|"dask")`` cuts the input into partitions (a
customer's events stay together), runs them on a process pool or a Dask cluster with the
model loaded once per worker, writes results to the store (or a results file) and
checkpoints each partition, so an interrupted run resumes where it stopped. See
``docs/operations-streams.md``.
"""

from ._checkpoint import CheckpointDir, atomic_write
from ._engines import DaskEngine, Engine, EngineName, LocalEngine, open_engine
from ._plan import Plan, fingerprint, partition_of, plan_db, plan_file, read_part
from ._run import BackfillReport, is_database_url, run_backfill
from ._task import PartitionResult, PartitionTask, TaskKind, process_stats, run_partition, score_records

__all__ = [
    "BackfillReport",
    "CheckpointDir",
    "DaskEngine",
    "Engine",
    "EngineName",
    "LocalEngine",
    "PartitionResult",
    "PartitionTask",
    "Plan",
    "TaskKind",
    "atomic_write",
    "fingerprint",
    "is_database_url",
    "open_engine",
    "partition_of",
    "plan_db",
    "plan_file",
    "process_stats",
    "read_part",
    "run_backfill",
    "run_partition",
    "score_records",
]
