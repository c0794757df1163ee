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
    Console(soft_wrap=False).print(table)


def say(message: str) -> None:
    """A line for people, on stderr (stdout stays for data)."""
    click.echo(message, err=True)


def handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn freqopt errors into one ``Error:`` line and exit 1; show warnings."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from freqopt.errors import FreqoptError, FreqoptWarning

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", FreqoptWarning)
            try:
                return func(*args, **kwargs)
            except FreqoptError as exc:
                first, *rest = str(exc).splitlines() or [type(exc).__name__]
                click.echo(f"Error: {first}", err=True)
                for line in rest:
                    click.echo(line, err=True)
                sys.exit(1)
            finally:
                for w in caught:
                    if issubclass(w.category, FreqoptWarning):
                        click.echo(f"Warning: {w.message}", err=True)
                    else:
                        warnings.showwarning(
                            w.message, w.category, w.filename, w.lineno
                        )

    return wrapper


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
    recommend. Every command takes --db (or FREQOPT_DB) to name the store.
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
    fo = open_store(db)
    report = fo.import_models(file)
    if as_json:
        emit_json(report)
        return
    say(
        f"{file}: {len(report.inserted)} new, {len(report.updated)} updated, "
        f"{report.n_unchanged} unchanged"
    )
    for model_id, columns in report.updated.items():
        say(f"  updated {model_id}: {', '.join(columns)}")


@models.command("list")
@db_option
@json_option
@handle_errors
def models_list(db: str | None, as_json: bool) -> None:
    """List registered models."""
    records = open_store(db).models()
    if as_json:
        emit_json([r.as_dict() for r in records])
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


if __name__ == "__main__":  # pragma: no cover
    main()
