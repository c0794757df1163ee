"""The library API: one facade over the store, the registry and the core.

The CLI, the tests and the benchmark all call :class:`Freqopt`. Each method
does one job and returns a frozen dataclass; nothing here prints.

Example:
    >>> fo = Freqopt.init("fleet.db")            # doctest: +SKIP
    >>> fo.import_models("examples/fleet.csv")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from freqopt import _clusters, registry
from freqopt import ingest as _ingest
from freqopt.store import Store, StoreInfo, resolve_db_url
from freqopt.trials import TrialRecord, list_trials, move_trial

__all__ = ["Freqopt", "ModelsImport"]


@dataclass(frozen=True)
class ModelsImport:
    """A fleet import and where its new models were placed.

    Attributes:
        report: Models inserted, updated and unchanged.
        assigned: New models put in their nearest existing cluster (empty
            when the fleet has not been clustered yet), outliers flagged.
    """

    report: registry.ImportReport
    assigned: tuple[_clusters.Assigned, ...]


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

    def import_models(self, path: str | Path) -> ModelsImport:
        """Insert new models and update changed ones from a fleet file.

        When a clustering exists, each new model is assigned to its nearest
        cluster without re-clustering, with its distance and an outlier flag.
        """
        report = registry.import_models(self.store, path)
        assigned = _clusters.assign_new_models(self.store, report.inserted)
        return ModelsImport(report, tuple(assigned))

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

    # Clusters ----------------------------------------------------------------

    def cluster(
        self,
        *,
        k: int | str = "auto",
        method: str = "kmeans",
        pca: int | str | None = None,
        seed: int = 0,
        exclude: Sequence[str] = (),
        weights: Mapping[str, float] | None = None,
    ) -> _clusters.ClusterRun:
        """Embed and cluster the fleet; store it as a new version with stable ids."""
        return _clusters.run_clustering(
            self.store,
            k=k,
            method=method,
            pca=pca,
            seed=seed,
            exclude=exclude,
            weights=weights,
        )

    def clusters(self) -> list[_clusters.ClusterInfo]:
        """The current clusters with their members."""
        return _clusters.list_clusters(self.store)

    def cluster_members(self, cluster_id: int) -> list[_clusters.Member]:
        """One current cluster's members with their distances."""
        return _clusters.members(self.store, cluster_id)

    def clusters_diff(self) -> Any:
        """Models that moved between the previous and the current clustering."""
        return _clusters.diff(self.store)

    def validate_clusters(
        self, *, policy: Any = None, n_permutations: int = 999, seed: int = 0
    ) -> Any:
        """Whether models of one cluster have more similar gain curves."""
        from freqopt.policy import load_policy

        policy = policy if policy is not None else load_policy(None)
        return _clusters.validate(
            self.store, policy.intervals_hours, n_permutations=n_permutations, seed=seed
        )

    def plot_clusters(self, out: str | Path) -> str:
        """Write the fleet in 2-D, coloured by cluster, to an image file."""
        return _clusters.plot(self.store, str(out))

    # Decisions -----------------------------------------------------------------

    def next_trial(
        self,
        cluster_id: int,
        *,
        q: int | None = None,
        model_id: str | None = None,
        policy: Any = None,
        seed: int | None = None,
    ) -> tuple[list[Any], tuple[str, ...]]:
        """Propose the q most valuable distinct trials of a cluster and store them.

        Args:
            cluster_id: The cluster.
            q: Number of proposals; None takes the policy's batch size.
            model_id: Only propose trials of this model.
            policy: A :class:`~freqopt.policy.Policy`; None for the default.
            seed: Seed; None takes the policy's.

        Returns:
            The stored proposals (``proposed`` trials) and the posterior's notes.
        """
        from freqopt import _decisions

        return _decisions.next_trials(
            self.store, cluster_id, _policy(policy), q=q, model_id=model_id, seed=seed
        )

    def recommend(
        self,
        *,
        cluster_id: int | None = None,
        model_id: str | None = None,
        policy: Any = None,
        seed: int | None = None,
    ) -> tuple[list[Any], dict[int, tuple[str, ...]]]:
        """Recommend an interval for each model (of a cluster, one model, or all)."""
        from freqopt import _decisions

        return _decisions.recommendations(
            self.store,
            _policy(policy),
            cluster_id=cluster_id,
            model_id=model_id,
            seed=seed,
        )

    def report(
        self,
        cluster_id: int,
        out: str | Path,
        *,
        policy: Any = None,
        seed: int | None = None,
    ) -> str:
        """Plot a cluster's posterior gain and ROI curves to an image file."""
        from freqopt import _decisions

        return _decisions.report(
            self.store, cluster_id, _policy(policy), str(out), seed=seed
        )


def _policy(policy: Any) -> Any:
    from freqopt.policy import load_policy

    return policy if policy is not None else load_policy(None)
