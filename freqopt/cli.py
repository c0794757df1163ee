"""The ``freqopt`` command line: parse, call one library function, render.

Heavy libraries (pandas, SQLAlchemy, torch) are imported inside commands so
``freqopt --help`` starts fast. Every listing prints a table by default and
exactly one JSON document with ``--json``. Errors go to stderr as one
``Error:`` line; exit status is 0 on success, 1 on a runtime or data error
and 2 on a usage error.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import sys
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import click

__all__ = ["main"]

DB_HELP = "Store: SQLite file or SQLAlchemy URL [env FREQOPT_DB; default ./freqopt.db]."


def _plain(obj: Any) -> Any:
    """Dataclasses, tuples and non-finite floats as JSON-ready values."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        items = sorted(obj) if isinstance(obj, set | frozenset) else obj
        return [_plain(v) for v in items]
    if hasattr(obj, "item") and not isinstance(obj, str | bytes):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def emit_json(document: Any) -> None:
    """Print exactly one JSON document on stdout."""
    click.echo(json.dumps(_plain(document), indent=2, sort_keys=False))


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_fmt(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_fmt(v) for v in value)
    return str(value)


def _band(mean: float, low: float, high: float) -> str:
    """'mean [low, high]', or blank when undefined (an infeasible model)."""
    if not all(math.isfinite(v) for v in (mean, low, high)):
        return ""
    return f"{mean:.3g} [{low:.3g}, {high:.3g}]"


def print_table(
    title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Render rows as a rich table on stdout."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(_fmt(v) for v in row))
    console = Console()
    if not console.is_terminal:
        console = Console(width=200)  # pipes and files: do not wrap at 80
    console.print(table)


def say(message: str) -> None:
    """A line for people, on stderr (stdout stays for data)."""
    click.echo(message, err=True)


def handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn freqopt errors into one ``Error:`` line and exit 1; show warnings."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from freqopt.errors import FreqoptError, FreqoptWarning

        with warnings.catch_warnings():
            # Show each warning as it happens (nothing piles up in memory);
            # ours as one "Warning:" line, once per message.
            warnings.simplefilter("default", FreqoptWarning)
            original = warnings.showwarning

            def show(message: Any, category: Any, *rest: Any, **extra: Any) -> None:
                if issubclass(category, FreqoptWarning):
                    click.echo(f"Warning: {message}", err=True)
                else:
                    original(message, category, *rest, **extra)

            warnings.showwarning = show
            try:
                return func(*args, **kwargs)
            except FreqoptError as exc:
                first, *rest = str(exc).splitlines() or [type(exc).__name__]
                click.echo(f"Error: {first}", err=True)
                for line in rest:
                    if not line.startswith("(Background on this error"):
                        click.echo(line, err=True)
                sys.exit(1)

    return wrapper


def _image_path(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not value.lower().endswith((".png", ".svg", ".pdf")):
        raise click.BadParameter(f"{value!r}: use a .png, .svg or .pdf file name")
    return value


def db_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--db`` (env ``FREQOPT_DB``)."""
    return click.option("--db", envvar="FREQOPT_DB", default=None, help=DB_HELP)(func)


def json_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--json``."""
    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        help="Print one JSON document instead of a table.",
    )(func)


def open_store(db: str | None, *, create: bool = False) -> Any:
    """Open the store named by ``--db``."""
    from freqopt.api import Freqopt

    return Freqopt(db, create=create)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="freqopt")
def main() -> None:
    """freqopt: find how often each production ML model should be retrained.

    Typical flow: init, models import, cluster, next-trial, ingest results,
    recommend. Commands that use the store take --db (or FREQOPT_DB).
    """


@main.command()
@db_option
@json_option
@handle_errors
def init(db: str | None, as_json: bool) -> None:
    """Create the store (safe to run again)."""
    fo = open_store(db, create=True)
    info = fo.info()
    if as_json:
        emit_json(info)
    else:
        say(
            f"store ready: {info.url} (schema {info.schema_version}, "
            f"{info.n_models} models, {info.n_results} results)"
        )


@main.group()
def models() -> None:
    """Register and list the fleet's models."""


@models.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@db_option
@json_option
@handle_errors
def models_import(file: str, db: str | None, as_json: bool) -> None:
    """Import a fleet file (CSV, Parquet or JSON lines).

    New models are inserted and changed metadata updated; the report names
    which.
    """
    result = open_store(db).import_models(file)
    if as_json:
        emit_json(result)
        return
    report = result.report
    say(
        f"{file}: {len(report.inserted)} new, {len(report.updated)} updated, "
        f"{report.n_unchanged} unchanged"
    )
    for model_id, columns in report.updated.items():
        say(f"  updated {model_id}: {', '.join(columns)}")
    if result.assigned:
        print_table(
            "new models placed in existing clusters",
            ["model_id", "cluster_id", "distance", "outlier"],
            (
                [
                    a.model_id,
                    a.cluster_id,
                    a.distance,
                    "OUTLIER" if a.is_outlier else "",
                ]
                for a in result.assigned
            ),
        )


@models.command("list")
@db_option
@json_option
@handle_errors
def models_list(db: str | None, as_json: bool) -> None:
    """List registered models."""
    records = open_store(db).models()
    if as_json:
        rows = [r.as_dict() for r in records]
        keys = list(dict.fromkeys(k for row in rows for k in row))
        emit_json([{k: row.get(k) for k in keys} for row in rows])
        return
    meta_columns = sorted({c for r in records for c in r.metadata})[:6]
    print_table(
        f"{len(records)} models",
        [
            "model_id",
            "current_interval_hours",
            "value",
            "cost_per_retrain",
            *meta_columns,
        ],
        (
            [r.model_id, r.current_interval_hours, r.value, r.cost_per_retrain]
            + [r.metadata.get(c) for c in meta_columns]
            for r in records
        ),
    )


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--skip-invalid",
    "skip_invalid",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="REJECTS.csv",
    help="Ingest the valid rows; write rejected rows and reasons to this file.",
)
@click.option("--replace", is_flag=True, help="Overwrite stored results that conflict.")
@db_option
@json_option
@handle_errors
def ingest(
    file: str, skip_invalid: str | None, replace: bool, db: str | None, as_json: bool
) -> None:
    """Ingest experiment results (CSV, Parquet or JSON lines) in one transaction.

    One invalid row rejects the whole file unless --skip-invalid is given.
    Re-ingesting a file is a no-op reported as duplicates.
    """
    report = open_store(db).ingest(file, skip_invalid=skip_invalid, replace=replace)
    if as_json:
        emit_json(report)
        return
    say(
        f"{file}: {report.n_inserted} new, {report.n_replaced} replaced, "
        f"{report.n_duplicates} duplicate, {report.n_rejected} rejected "
        f"of {report.n_rows} rows"
    )
    if report.rejected_path:
        say(f"rejected rows and reasons written to {report.rejected_path}")


@main.group()
def trials() -> None:
    """List trials and move them along (start, abandon, fail)."""


@trials.command("list")
@click.option("--model", "model_id", default=None, help="Only this model's trials.")
@click.option(
    "--status",
    type=click.Choice(["proposed", "running", "completed", "failed", "abandoned"]),
    default=None,
    help="Only trials with this status.",
)
@click.option(
    "--cluster", "cluster_id", type=int, default=None, help="Only this cluster."
)
@db_option
@json_option
@handle_errors
def trials_list(
    model_id: str | None,
    status: str | None,
    cluster_id: int | None,
    db: str | None,
    as_json: bool,
) -> None:
    """List trials, oldest first."""
    records = open_store(db).trials(
        model_id=model_id, status=status, cluster_id=cluster_id
    )
    if as_json:
        emit_json(records)
        return
    print_table(
        f"{len(records)} trials",
        [
            "trial_id",
            "model_id",
            "interval_hours",
            "status",
            "source",
            "gain",
            "gain_se",
            "cost_per_day",
            "started_at",
        ],
        (
            [
                t.trial_id,
                t.model_id,
                t.interval_hours,
                t.status,
                t.source,
                t.gain,
                t.gain_se,
                t.cost_per_day,
                t.started_at,
            ]
            for t in records
        ),
    )


def _move_command(name: str, method: str, help_text: str) -> None:
    @trials.command(name, help=help_text)
    @click.argument("trial_id", type=int)
    @db_option
    @json_option
    @handle_errors
    def command(trial_id: int, db: str | None, as_json: bool) -> None:
        record = getattr(open_store(db), method)(trial_id)
        if as_json:
            emit_json(record)
        else:
            say(
                f"trial {record.trial_id} ({record.model_id} every "
                f"{record.interval_hours:g} h) is now {record.status}"
            )


_move_command("start", "start_trial", "Mark a proposed trial as running.")
_move_command("abandon", "abandon_trial", "Abandon a proposed or running trial.")
_move_command("fail", "fail_trial", "Mark a proposed or running trial as failed.")


def _k_value(value: str) -> int | str:
    if value == "auto":
        return value
    try:
        k = int(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r}: use 'auto' or a whole number >= 1"
        ) from None
    if k < 1:
        raise click.BadParameter(f"{value!r}: use 'auto' or a whole number >= 1")
    return k


def _pca_value(value: str) -> int | str | None:
    if value == "off":
        return None
    if value == "auto":
        return value
    try:
        n = int(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r}: use off, auto or a whole number >= 1"
        ) from None
    if n < 1:
        raise click.BadParameter(f"{value!r}: use off, auto or a whole number >= 1")
    return n


def _weights(values: Sequence[str]) -> dict[str, float]:
    weights = {}
    for item in values:
        name, sep, number = item.partition("=")
        try:
            weights[name] = float(number)
        except ValueError:
            sep = ""
        if not sep or not name or not math.isfinite(weights[name]) or weights[name] < 0:
            raise click.BadParameter(f"{item!r}: use COLUMN=WEIGHT with WEIGHT >= 0")
    return weights


def _render_clusters(infos: Sequence[Any], title: str) -> None:
    print_table(
        title,
        ["cluster_id", "size", "silhouette", "outliers", "description"],
        (
            [c.cluster_id, c.size, c.silhouette, c.n_outliers, c.description]
            for c in infos
        ),
    )


@main.command()
@click.option(
    "--k",
    "k",
    default="auto",
    show_default=True,
    help="Number of clusters, or 'auto' (silhouette + Calinski-Harabasz).",
)
@click.option(
    "--method",
    type=click.Choice(["kmeans", "agglomerative", "spectral"]),
    default="kmeans",
    show_default=True,
    help="Clustering method.",
)
@click.option(
    "--pca",
    "pca",
    default="off",
    show_default=True,
    help="PCA on the embedding: off, auto (90 % variance) or N components.",
)
@click.option(
    "--exclude",
    multiple=True,
    metavar="COLUMN",
    help="Leave a metadata column out (repeatable).",
)
@click.option(
    "--weight",
    "weight",
    multiple=True,
    metavar="COLUMN=W",
    help="Weight a metadata column's dimensions (repeatable; 0 excludes).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@db_option
@json_option
@handle_errors
def cluster(
    k: str,
    method: str,
    pca: str,
    exclude: tuple[str, ...],
    weight: tuple[str, ...],
    seed: int,
    db: str | None,
    as_json: bool,
) -> None:
    """Cluster the fleet by metadata; ids stay stable across re-clustering."""
    run = open_store(db).cluster(
        k=_k_value(k),
        method=method,
        pca=_pca_value(pca),
        seed=seed,
        exclude=exclude,
        weights=_weights(weight),
    )
    if as_json:
        emit_json(run)
        return
    summary, embedding = run.summary, run.embedding
    _render_clusters(run.clusters, f"clustering v{run.version}: {summary['reason']}")
    if summary["silhouette"] is None:
        say("silhouette and stability are undefined (one cluster, or one model each)")
    else:
        say(
            f"silhouette {_fmt(summary['silhouette'])}, stability (adjusted Rand under "
            f"resampling) {_fmt(summary['stability_mean'])} "
            f"± {_fmt(summary['stability_std'])}"
        )
    if embedding.get("dropped"):
        say(f"dropped columns: {_fmt([d['column'] for d in embedding['dropped']])}")
    if embedding.get("explained_variance") is not None:
        say(f"PCA keeps {embedding['explained_variance']:.1%} of the variance")
    say(
        f"ids kept {_fmt(run.kept_ids) or '-'}; new {_fmt(run.new_ids) or '-'}; "
        f"retired {_fmt(run.retired_ids) or '-'}; {run.n_moved} models moved"
    )


@main.group(invoke_without_command=True)
@db_option
@json_option
@click.pass_context
def clusters(ctx: click.Context, db: str | None, as_json: bool) -> None:
    """List current clusters (or show, diff, validate, plot them)."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(clusters_list, db=db, as_json=as_json)


@clusters.command("list")
@db_option
@json_option
@handle_errors
def clusters_list(db: str | None, as_json: bool) -> None:
    """List current clusters with sizes and descriptions."""
    infos = open_store(db).clusters()
    if as_json:
        emit_json(infos)
    else:
        _render_clusters(infos, f"{len(infos)} clusters")


@clusters.command("show")
@click.argument("cluster_id", type=int)
@db_option
@json_option
@handle_errors
def clusters_show(cluster_id: int, db: str | None, as_json: bool) -> None:
    """List one cluster's member models with their distances."""
    found = open_store(db).cluster_members(cluster_id)
    if as_json:
        emit_json(found)
        return
    print_table(
        f"cluster {cluster_id}: {len(found)} models",
        ["model_id", "distance", "assigned later", "outlier"],
        (
            [
                m.model_id,
                m.distance,
                "yes" if m.assigned else "",
                "OUTLIER" if m.is_outlier else "",
            ]
            for m in found
        ),
    )


@clusters.command("diff")
@db_option
@json_option
@handle_errors
def clusters_diff(db: str | None, as_json: bool) -> None:
    """Show which models moved between the last two clusterings."""
    result = open_store(db).clusters_diff()
    if as_json:
        emit_json(result)
        return
    print_table(
        f"{len(result.moves)} models moved, {result.n_unchanged} unchanged",
        ["model_id", "old_cluster_id", "new_cluster_id"],
        ([m.model_id, m.old_cluster_id, m.new_cluster_id] for m in result.moves),
    )
    say(
        f"clusters added: {_fmt(result.added_ids) or '-'}; "
        f"removed: {_fmt(result.removed_ids) or '-'}"
    )


@clusters.command("validate")
@click.option(
    "--permutations",
    type=int,
    default=999,
    show_default=True,
    help="Label permutations for the p-values.",
)
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Policy TOML (its allowed intervals are the curve grid).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@db_option
@json_option
@handle_errors
def clusters_validate(
    permutations: int, policy_path: str | None, seed: int, db: str | None, as_json: bool
) -> None:
    """Check clusters against measured gain curves (permutation test)."""
    from freqopt.policy import load_policy

    report = open_store(db).validate_clusters(
        policy=load_policy(policy_path), n_permutations=permutations, seed=seed
    )
    if as_json:
        document = report.to_dict()
        for cluster in document["clusters"]:
            cluster["cluster_id"] = cluster.pop("label")
        emit_json(document)
        return
    print_table(
        "curve distance within vs across clusters",
        [
            "cluster_id",
            "models",
            "with data",
            "within",
            "across",
            "ratio",
            "p",
            "status",
        ],
        (
            [
                c.label,
                c.n_models,
                c.n_with_data,
                c.within_mean,
                c.across_mean,
                c.ratio,
                c.p_value,
                c.status,
            ]
            for c in report.clusters
        ),
    )
    say(report.message)


@clusters.command("plot")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False),
    callback=_image_path,
    help="Image file to write (.png, .svg, .pdf).",
)
@db_option
@handle_errors
def clusters_plot(out: str, db: str | None) -> None:
    """Draw the fleet in 2-D (PCA of the embedding), coloured by cluster."""
    say(f"wrote {open_store(db).plot_clusters(out)}")


def policy_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--policy FILE``."""
    return click.option(
        "--policy",
        "policy_path",
        type=click.Path(dir_okay=False),
        default=None,
        envvar="FREQOPT_POLICY",
        help="Policy TOML [env FREQOPT_POLICY; default: the built-in default policy].",
    )(func)


def _load_policy(path: str | None) -> Any:
    from freqopt.policy import load_policy

    return load_policy(path)


def _say_notes(notes: Iterable[str]) -> None:
    for note in notes:
        say(f"note: {note}")


@main.command("next-trial")
@click.option("--cluster", "cluster_id", type=int, required=True, help="Cluster id.")
@click.option(
    "--batch",
    "q",
    type=click.IntRange(min=1),
    default=None,
    help="Number of distinct proposals [default: the policy's batch_size].",
)
@click.option(
    "--model", "model_id", default=None, help="Only propose trials of this model."
)
@click.option(
    "--seed", type=int, default=None, help="Random seed [default: the policy's]."
)
@policy_option
@db_option
@json_option
@handle_errors
def next_trial(
    cluster_id: int,
    q: int | None,
    model_id: str | None,
    seed: int | None,
    policy_path: str | None,
    db: str | None,
    as_json: bool,
) -> None:
    """Propose the next most valuable experiments for a cluster.

    Each proposal is stored as a trial with status `proposed`; ingesting its
    result (with its trial_id) completes it.
    """
    proposals, notes = open_store(db).next_trial(
        cluster_id, q=q, model_id=model_id, policy=_load_policy(policy_path), seed=seed
    )
    if as_json:
        emit_json(proposals)
        return
    if q is not None and 0 < len(proposals) < q:
        say(
            f"{len(proposals)} proposals, fewer than the {q} asked: the other "
            "points are settled, pending, measured or not allowed"
        )
    if not proposals:
        say(
            f"no trial is worth running in cluster {cluster_id}: every model is "
            "settled or infeasible, or every allowed interval is tried or pending "
            "(see `freqopt recommend --cluster N`)"
        )
    else:
        print_table(
            f"next trials for cluster {cluster_id}",
            [
                "trial_id",
                "model_id",
                "interval_hours",
                "score (ROI/day)",
                "gain (90 %)",
                "reason",
            ],
            (
                [
                    p.trial_id,
                    p.model_id,
                    p.interval_hours,
                    p.score,
                    f"{p.gain_mean:.3g} [{p.gain_lo:.3g}, {p.gain_hi:.3g}]",
                    p.reason,
                ]
                for p in proposals
            ),
        )
    _say_notes(notes)


@main.command()
@click.option("--cluster", "cluster_id", type=int, default=None, help="One cluster.")
@click.option("--model", "model_id", default=None, help="One model.")
@click.option("--all", "all_models", is_flag=True, help="Every model (the default).")
@click.option(
    "--seed", type=int, default=None, help="Random seed [default: the policy's]."
)
@policy_option
@db_option
@json_option
@handle_errors
def recommend(
    cluster_id: int | None,
    model_id: str | None,
    all_models: bool,
    seed: int | None,
    policy_path: str | None,
    db: str | None,
    as_json: bool,
) -> None:
    """Recommend a retraining interval for each model, with uncertainty.

    Status: settled (one more trial is not worth it), exploring, cold-start
    (no trials of its own: the curve comes from its cluster) or infeasible.
    """
    if all_models and (cluster_id is not None or model_id is not None):
        raise click.UsageError("--all cannot be combined with --cluster or --model")
    recs, notes = open_store(db).recommend(
        cluster_id=cluster_id,
        model_id=model_id,
        policy=_load_policy(policy_path),
        seed=seed,
    )
    if as_json:
        emit_json(recs)
        return
    print_table(
        f"recommendations for {len(recs)} models",
        [
            "model_id",
            "cluster",
            "interval_hours",
            "status",
            "gain (90 %)",
            "ROI/day (90 %)",
            "vs current",
            "max EI",
            "P(within eps)",
        ],
        (
            [
                r.model_id,
                r.cluster_id,
                r.interval_hours,
                r.status,
                _band(r.gain_mean, r.gain_lo, r.gain_hi),
                _band(r.roi_mean, r.roi_lo, r.roi_hi),
                r.roi_change_vs_current,
                r.max_expected_improvement,
                r.prob_within_epsilon,
            ]
            for r in recs
        ),
    )
    for cid, cluster_notes in notes.items():
        _say_notes(f"cluster {cid}: {n}" for n in cluster_notes)


@main.command()
@click.option("--cluster", "cluster_id", type=int, required=True, help="Cluster id.")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False),
    callback=_image_path,
    help="Image file to write (.png, .svg, .pdf).",
)
@click.option(
    "--seed", type=int, default=None, help="Random seed [default: the policy's]."
)
@policy_option
@db_option
@handle_errors
def report(
    cluster_id: int, out: str, seed: int | None, policy_path: str | None, db: str | None
) -> None:
    """Plot a cluster's posterior gain and ROI curves, observations and cost."""
    path = open_store(db).report(
        cluster_id, out, policy=_load_policy(policy_path), seed=seed
    )
    say(f"wrote {path}")


def progress_bar(enabled: bool) -> Any:
    """A rich progress bar on stderr when it is a terminal, else a no-op."""
    from contextlib import nullcontext

    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        return nullcontext(None)
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:.0f}/{task.total:.0f}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def _tracker(bar: Any) -> Callable[[str, float, float], None]:
    """A ``progress(what, done, total)`` callback updating ``bar``, or logging."""
    tasks: dict[str, Any] = {}
    last: dict[str, float] = {}

    def update(what: str, done: float, total: float) -> None:
        if bar is None:
            step = max(total / 10, 1)
            if done >= total or done - last.get(what, -step) >= step:
                last[what] = done
                say(f"{what}: {done:.0f}/{total:.0f}")
            return
        if what not in tasks:
            tasks[what] = bar.add_task(what, total=total)
        bar.update(tasks[what], completed=done, total=total)

    return update


@main.command()
@click.option(
    "--models",
    "n_models",
    type=click.IntRange(min=2),
    default=120,
    show_default=True,
    help="Models in the fleet.",
)
@click.option(
    "--clusters",
    "n_clusters",
    type=click.IntRange(min=1),
    default=6,
    show_default=True,
    help="Generating groups.",
)
@click.option(
    "--noise",
    type=click.FloatRange(min=0),
    default=0.05,
    show_default=True,
    help="Experiment noise sd as a fraction of each model's gain range.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder for fleet.csv and truth.csv / truth.json.",
)
@json_option
@handle_errors
def simulate(
    n_models: int, n_clusters: int, noise: float, seed: int, out: str, as_json: bool
) -> None:
    """Write a simulated fleet (fleet.csv) and, separately, its truth."""
    from pathlib import Path

    from freqopt.sim import simulate_fleet, write_fleet_csv, write_truth

    fleet = simulate_fleet(
        n_models=n_models, n_clusters=n_clusters, noise=noise, seed=seed
    )
    folder = Path(out)
    files = [
        str(write_fleet_csv(fleet, folder / "fleet.csv")),
        str(write_truth(fleet, folder / "truth.csv")),
        str(write_truth(fleet, folder / "truth.json")),
    ]
    if as_json:
        emit_json({"n_models": fleet.n_models, "files": files})
    else:
        say(
            f"simulated {fleet.n_models} models in {n_clusters} groups: "
            + ", ".join(files)
        )


@main.command()
@click.option(
    "--fleet",
    "fleet_kind",
    type=click.Choice(["real", "sim"]),
    default="real",
    show_default=True,
    help="real: backtest replays of data sets shipped in packages; sim: simulated.",
)
@click.option(
    "--budget",
    type=click.FloatRange(min=0.1),
    default=3.0,
    show_default=True,
    help="Experiments per model on average, at most.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option(
    "--out",
    default="demo-out",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder for the store, files, plots.",
)
@click.option(
    "--jobs",
    "n_jobs",
    type=int,
    default=2,
    show_default=True,
    help="Parallel replay processes for the real fleet.",
)
@click.option(
    "--cache",
    "cache_dir",
    default=None,
    type=click.Path(file_okay=False),
    help="Replay cache [env FREQOPT_CACHE; default ~/.cache/freqopt].",
)
@json_option
@handle_errors
def demo(
    fleet_kind: str,
    budget: float,
    seed: int,
    out: str,
    n_jobs: int,
    cache_dir: str | None,
    as_json: bool,
) -> None:
    """Run the whole loop on a fleet with known truth and score it.

    Builds the fleet, clusters it, then loops next-trial -> run -> ingest
    until models settle or the budget is spent; compares every model's
    recommendation with the true optimum and a full grid search. The demo's
    own store in --out (demo.db) is replaced on every run.
    """
    from freqopt._demo import run_demo

    with progress_bar(not as_json) as bar:
        track = _tracker(bar)
        if fleet_kind == "real":
            from freqopt.replay import build_real_fleet

            real = build_real_fleet(
                cache_dir=cache_dir,
                n_jobs=n_jobs,
                seed=seed,
                progress=lambda model_id, done, total: track("replays", done, total),
            )
            truth, oracle = real.truth, real.oracle(seed)  # type: ignore[assignment]
        else:
            from freqopt.sim import SimOracle, simulate_fleet

            truth = simulate_fleet(seed=seed)
            oracle = SimOracle(truth)  # type: ignore[assignment]
        result = run_demo(
            truth, oracle, out, budget_per_model=budget, seed=seed, progress=track
        )
    if as_json:
        emit_json(result)
        return
    _render_demo(result)


@main.command()
@click.option(
    "--fleet",
    "fleet_kind",
    type=click.Choice(["sim", "real"]),
    default="sim",
    show_default=True,
    help="Simulated fleet, or the real-data replay fleet.",
)
@click.option(
    "--strategies",
    default=None,
    metavar="A,B,...",
    help="Comma-separated strategies [default: all].",
)
@click.option(
    "--seeds",
    "n_seeds",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Seeds per noise level.",
)
@click.option(
    "--budget",
    type=click.FloatRange(min=0.5),
    default=12.0,
    show_default=True,
    help="Experiments per model on average.",
)
@click.option(
    "--noise",
    "noises",
    type=click.FloatRange(min=0),
    multiple=True,
    help="Noise level(s) as a fraction of each model's gain range "
    "[default: 0.05 and 0.2; the real fleet has its own].",
)
@click.option(
    "--quick", is_flag=True, help="Small setting that runs in about a minute."
)
@click.option(
    "--jobs",
    "n_jobs",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Parallel worker processes.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="First seed.")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder for benchmark.json and the plots.",
)
@json_option
@handle_errors
def benchmark(
    fleet_kind: str,
    strategies: str | None,
    n_seeds: int,
    budget: float,
    noises: tuple[float, ...],
    quick: bool,
    n_jobs: int,
    seed: int,
    out: str,
    as_json: bool,
) -> None:
    """Run strategies side by side on a fleet with known truth.

    Strategies: grid, coarse_to_fine, random, skopt, independent_gp, freqopt,
    cold_start; opt-in: ax (needs `pip install 'freqopt[ax]'`). Writes
    benchmark.json and PNG plots to --out.
    """
    from freqopt.bench.runner import benchmark as run

    names = [n.strip() for n in strategies.split(",")] if strategies else None
    with progress_bar(not as_json) as bar:
        track = _tracker(bar)
        result = run(
            fleet_kind,
            names,
            n_seeds=n_seeds,
            budget=budget,
            noise=list(noises) or None,
            quick=quick,
            out_dir=out,
            progress=lambda e: track("runs", e.done, e.total),
            n_jobs=n_jobs,
            seed=seed,
        )
    if as_json:
        emit_json(result.to_dict())
        return
    print_table(
        "share of models within 2 % / 5 % of the true ROI optimum (95 % interval)",
        [
            "noise",
            "strategy",
            "experiments per model",
            "within 2 %",
            "within 5 %",
            "median regret",
            "experiment compute",
            "ms per decision",
        ],
        (
            [
                r.noise,
                r.strategy,
                r.k,
                f"{r.share_within_2pct:.0%} [{r.share_within_2pct_low:.0%}, "
                f"{r.share_within_2pct_high:.0%}]",
                f"{r.share_within_5pct:.0%} [{r.share_within_5pct_low:.0%}, "
                f"{r.share_within_5pct_high:.0%}]",
                r.median_regret,
                r.compute_cost,
                1000 * r.seconds_per_decision,
            ]
            for r in result.table()
        ),
    )
    for goal in result.goals:
        numbers = ", ".join(f"{k} {_fmt(v)}" for k, v in goal.measured.items())
        say(
            f"goal {'MET' if goal.passed else 'NOT MET'}: "
            f"{goal.description} ({numbers})"
        )
    say(f"wrote {out}/benchmark.json and plots")


def _render_demo(result: Any) -> None:
    print_table(
        f"{len(result.models)} models in {result.n_clusters} clusters: freqopt against "
        "the true optimum and a full grid",
        [
            "model_id",
            "cluster",
            "status",
            "freqopt h",
            "true best h",
            "grid h",
            "freqopt regret",
            "grid regret",
            "experiments",
            "grid experiments",
        ],
        (
            [
                m.model_id,
                m.cluster_id,
                m.status,
                m.freqopt_interval_hours,
                m.true_best_interval_hours,
                m.grid_interval_hours,
                m.freqopt_regret,
                m.grid_regret,
                m.n_experiments,
                m.n_grid_experiments,
            ]
            for m in result.models
        ),
    )
    say(
        f"freqopt: {result.freqopt_experiments_per_model:.2f} experiments per model, "
        f"{result.freqopt_share_within_2pct:.0%} of models within 2 % of the optimum, "
        f"{result.freqopt_share_within_5pct:.0%} within 5 %"
    )
    say(
        f"full grid: {result.grid_experiments_per_model:.2f} experiments per model, "
        f"{result.grid_share_within_2pct:.0%} within 2 %, "
        f"{result.grid_share_within_5pct:.0%} within 5 %"
    )
    say(f"wrote {', '.join(result.files)}")


if __name__ == "__main__":  # pragma: no cover
    main()
