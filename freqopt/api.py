"""The library API: one facade over the store, the registry and the core.

The CLI, the tests and the benchmark all call :class:`Freqopt`. Each method
does one job and returns a frozen dataclass; nothing here prints.

Example:
    >>> fo = Freqopt.init("fleet.db")            # doctest: +SKIP
    >>> fo.import_models("examples/fleet.csv")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path

from freqopt import ingest as _ingest
from freqopt import registry
from freqopt.store import Store, StoreInfo, resolve_db_url
from freqopt.trials import TrialRecord, list_trials, move_trial

__all__ = ["Freqopt"]


class Freqopt:
    """A handle on one freqopt store.

    Args:
        db: SQLite path or SQLAlchemy URL; None means ``FREQOPT_DB`` or
            ``freqopt.db`` in the working directory.
        create: Create the store if it does not exist.

    Raises:
        NotFoundError: The store does not exist and ``create`` is False.
        StoreError: The store cannot be opened or has a newer schema.
    """

    def __init__(
        self, db: str | os.PathLike[str] | None = None, *, create: bool = False
    ):
        self.store = Store(resolve_db_url(db), create=create)

    @classmethod
    def init(cls, db: str | os.PathLike[str] | None = None) -> Freqopt:
        """Create the store if needed and open it."""
        return cls(db, create=True)

    def info(self) -> StoreInfo:
        """Where the store is and how much it holds."""
        return self.store.info()

    def close(self) -> None:
        """Release the store's connections."""
        self.store.dispose()

    # Fleet registry ---------------------------------------------------------

    def import_models(self, path: str | Path) -> registry.ImportReport:
        """Insert new models and update changed ones from a fleet file."""
        return registry.import_models(self.store, path)

    def models(self) -> list[registry.ModelRecord]:
        """Every registered model, ordered by id."""
        return registry.list_models(self.store)

    # Results and trials ------------------------------------------------------

    def ingest(
        self,
        path: str | Path,
        *,
        skip_invalid: str | Path | None = None,
        replace: bool = False,
    ) -> _ingest.IngestReport:
        """Validate a results file and store its rows in one transaction."""
        return _ingest.ingest_results(
            self.store, path, skip_invalid=skip_invalid, replace=replace
        )

    def trials(
        self,
        *,
        model_id: str | None = None,
        status: str | None = None,
        cluster_id: int | None = None,
    ) -> list[TrialRecord]:
        """Trials ordered by id, optionally filtered."""
        return list_trials(
            self.store, model_id=model_id, status=status, cluster_id=cluster_id
        )

    def start_trial(self, trial_id: int) -> TrialRecord:
        """Mark a proposed trial as running."""
        return move_trial(self.store, trial_id, "running")

    def abandon_trial(self, trial_id: int) -> TrialRecord:
        """Abandon a proposed or running trial."""
        return move_trial(self.store, trial_id, "abandoned")

    def fail_trial(self, trial_id: int) -> TrialRecord:
        """Mark a proposed or running trial as failed."""
        return move_trial(self.store, trial_id, "failed")
