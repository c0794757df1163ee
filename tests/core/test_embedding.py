"""Tests of the metadata embedding."""

from __future__ import annotations

import math
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from freqopt.core.embedding import fit_embedding
from freqopt.errors import DataError, DataWarning


def _fleet(n_models: int = 40, seed: int = 0) -> pd.DataFrame:
    """A small fleet with every kind of column and no constant one."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "model_id": [f"m{i}" for i in range(n_models)],
            "n_parameters": (10 ** rng.uniform(5, 10, n_models)).round(),
            "revenue_share": rng.uniform(0.0, 0.3, n_models),
            "architecture": rng.choice(["dnn", "dcn", "gbdt"], n_models),
            "feature_groups": rng.choice(["user;ad", "user;context", "ad"], n_models),
            "value": 10 ** rng.uniform(2, 5, n_models),
            "current_interval_hours": rng.choice([6.0, 24.0, np.nan], n_models),
        }
    )


def test_default_exclusions_keep_value_and_drop_id_and_interval():
    embedding = fit_embedding(_fleet())

    used = [column.name for column in embedding.report.columns]
    assert used == [
        "n_parameters",
        "revenue_share",
        "architecture",
        "feature_groups",
        "value",
    ]
    assert embedding.report.excluded == ("current_interval_hours", "model_id")
    assert embedding.model_ids[:2] == ("m0", "m1")


def test_constant_columns_are_dropped_named_and_warned():
    fleet = _fleet().assign(region="us", n_gpus=8)

    with pytest.warns(DataWarning, match="'region'.*'n_gpus'|'n_gpus'.*'region'"):
        embedding = fit_embedding(fleet)

    report = embedding.report
    assert set(report.dropped_constant) == {"region", "n_gpus"}
    assert all("region" not in name for name in report.feature_names)
    assert {d.reason for d in report.dropped} == {"constant"}
    assert "'us' in 100.0 %" in next(d.detail for d in report.dropped)


def test_near_constant_column_is_dropped_at_the_share_asked():
    fleet = _fleet(n_models=40)
    fleet["tier"] = ["gold"] * 38 + ["silver"] * 2

    with pytest.warns(DataWarning, match="tier"):
        embedding = fit_embedding(fleet, near_constant_share=0.9)

    assert embedding.report.dropped[0].reason == "near-constant"
    assert "95.0 %" in embedding.report.dropped[0].detail


def test_text_unique_to_every_model_is_dropped_as_identifier():
    fleet = _fleet().assign(owner=lambda f: "team-" + f["model_id"])

    with pytest.warns(DataWarning, match="owner"):
        embedding = fit_embedding(fleet)

    assert embedding.report.dropped[0].reason == "identifier"


def test_label_held_by_every_model_is_dropped_from_the_set_column():
    fleet = _fleet().assign(feature_groups=lambda f: f["feature_groups"] + ";user")

    with pytest.warns(DataWarning, match="feature_groups:user"):
        embedding = fit_embedding(fleet)

    assert "feature_groups:user" not in embedding.report.feature_names
    assert "feature_groups:ad" in embedding.report.feature_names


def test_multi_hot_column_has_one_scaled_dimension_per_label():
    embedding = fit_embedding(_fleet(), exclude=["n_parameters", "value"])

    names = embedding.report.feature_names
    groups = [name for name in names if name.startswith("feature_groups:")]
    assert groups == [
        "feature_groups:ad",
        "feature_groups:context",
        "feature_groups:user",
    ]
    block = embedding.matrix[:, [names.index(name) for name in groups]]
    expected_scale = math.sqrt(2 / 3)
    sets = _fleet()["feature_groups"].str.split(";")
    for row, labels in zip(block, sets, strict=True):
        pairs = zip(groups, row, strict=True)
        held = {group.split(":")[1] for group, x in pairs if x > 0}
        assert held == set(labels)
        assert np.allclose(row[row > 0], expected_scale)


def test_heavy_tailed_columns_are_log_scaled_by_name_or_skew():
    rng = np.random.default_rng(3)
    fleet = _fleet(n_models=200).assign(
        lag_hours=rng.lognormal(1.0, 1.5, 200),
        temperature=rng.normal(20.0, 3.0, 200),
    )

    report = fit_embedding(fleet).report

    assert set(report.log_scaled) == {"n_parameters", "value", "lag_hours"}
    assert "log(n_parameters)" in report.feature_names
    assert "revenue_share" in report.feature_names


def test_user_can_force_log_scaling_either_way():
    report = fit_embedding(
        _fleet(), log_columns=["revenue_share"], linear_columns=["value"]
    ).report

    assert set(report.log_scaled) == {"n_parameters", "revenue_share"}


def test_log_scaled_column_makes_orders_of_magnitude_evenly_spaced():
    fleet = pd.DataFrame(
        {"n_parameters": [1e3, 1e4, 1e5, 1e6, 1e7], "goal": list("aabbb")}
    )

    matrix = fit_embedding(fleet).matrix

    assert np.allclose(np.diff(matrix[:, 0]), np.diff(matrix[:, 0])[0])


def test_log_scaling_a_negative_column_is_refused_naming_the_model():
    fleet = _fleet()
    fleet.loc[3, "revenue_share"] = -0.1

    with pytest.raises(DataError, match=r"revenue_share.*'m3'.*-0\.1"):
        fit_embedding(fleet, log_columns=["revenue_share"])


def test_missing_values_are_imputed_reported_and_never_nan():
    fleet = _fleet()
    fleet.loc[[1, 5, 7], "n_parameters"] = np.nan
    fleet.loc[[2], "architecture"] = None
    fleet.loc[[4, 6], "feature_groups"] = np.nan

    embedding = fit_embedding(fleet)

    assert np.isfinite(embedding.matrix).all()
    assert embedding.report.missing == {
        "n_parameters": 3,
        "architecture": 1,
        "feature_groups": 2,
    }
    names = embedding.report.feature_names
    indicator = embedding.matrix[:, names.index("missing(n_parameters)")]
    assert np.flatnonzero(indicator).tolist() == [1, 5, 7]
    assert "architecture=(missing)" in names


def test_imputed_number_takes_the_median_of_the_column():
    fleet = pd.DataFrame({"size": [1.0, 2.0, 3.0, 4.0, np.nan], "kind": list("aabbb")})

    embedding = fit_embedding(fleet, linear_columns=["size"])

    column = embedding.matrix[:, embedding.report.feature_names.index("size")]
    assert column[4] == pytest.approx((column[1] + column[2]) / 2)


def test_weights_multiply_a_columns_dimensions_and_zero_excludes():
    plain = fit_embedding(_fleet())
    weighted = fit_embedding(_fleet(), weights={"architecture": 2.0, "value": 0})

    names = weighted.report.feature_names
    assert not any("value" in name for name in names)
    block = [i for i, name in enumerate(names) if name.startswith("architecture=")]
    plain_block = [plain.report.feature_names.index(names[i]) for i in block]
    assert np.allclose(weighted.matrix[:, block], 2 * plain.matrix[:, plain_block])


def test_negative_weight_is_refused():
    with pytest.raises(DataError, match=r"weight of column 'value' is -1"):
        fit_embedding(_fleet(), weights={"value": -1})


def test_pca_auto_keeps_the_variance_asked_and_reports_it():
    embedding = fit_embedding(_fleet(200), pca="auto", pca_variance=0.8)

    report = embedding.report
    assert report.pca_components == embedding.matrix.shape[1] == report.n_dims
    assert report.explained_variance >= 0.8
    assert sum(report.explained_variance_ratio[:-1]) < 0.8
    assert report.n_features > report.n_dims


def test_pca_with_a_number_of_components_reports_each_share():
    embedding = fit_embedding(_fleet(200), pca=2)

    report = embedding.report
    assert embedding.matrix.shape == (200, 2)
    assert len(report.explained_variance_ratio) == 2
    assert report.explained_variance_ratio[0] >= report.explained_variance_ratio[1]
    assert 0 < report.explained_variance <= 1


def test_pca_off_and_bad_values():
    assert fit_embedding(_fleet(), pca="off").report.pca_components is None
    with pytest.raises(DataError, match="pca is 'some'"):
        fit_embedding(_fleet(), pca="some")  # type: ignore[arg-type]


def test_fitted_embedder_reproduces_the_matrix_after_pickling():
    embedding = fit_embedding(_fleet(), pca=3)

    embedder = pickle.loads(pickle.dumps(embedding.embedder))

    assert np.allclose(embedder.transform(_fleet()), embedding.matrix)


def test_unseen_category_embeds_as_zeros_in_its_block():
    embedding = fit_embedding(_fleet())
    new = _fleet(3, seed=9).assign(architecture=["xgboost", "dnn", "dnn"])

    matrix = embedding.embedder.transform(new)
    notes = embedding.embedder.inspect(new)

    names = embedding.report.feature_names
    block = [i for i, name in enumerate(names) if name.startswith("architecture=")]
    assert np.all(matrix[0, block] == 0)
    assert matrix[1, names.index("architecture=dnn")] == 1
    assert notes.unseen_categories == {"architecture": ("xgboost",)}


def test_transform_tolerates_lacking_and_extra_columns():
    embedding = fit_embedding(_fleet())
    new = _fleet(4, seed=5).drop(columns=["value"]).assign(team="ads")

    with pytest.warns(DataWarning, match=r"lacks column\(s\) \['value'\]"):
        matrix = embedding.embedder.transform(new)

    notes = embedding.embedder.inspect(new)
    assert matrix.shape == (4, embedding.report.n_dims)
    assert np.isfinite(matrix).all()
    assert notes.missing_columns == ("value",)
    assert "team" in notes.extra_columns


def test_transform_rejects_text_in_a_numeric_column_naming_model_and_value():
    embedding = fit_embedding(_fleet())
    new = _fleet(5, seed=2).astype({"n_parameters": object})
    new.loc[3, "n_parameters"] = "1.2B"

    with pytest.raises(DataError, match=r"'n_parameters'.*'m3'.*'1\.2B'"):
        embedding.embedder.transform(new)


def test_fit_rejects_a_mostly_numeric_text_column_with_a_hint():
    fleet = _fleet().astype({"value": object})
    fleet.loc[0, "value"] = "n/a?"

    with pytest.raises(DataError, match=r"'value'.*'m0'.*categorical=\['value'\]"):
        fit_embedding(fleet)


def test_transform_clamps_zero_in_a_positive_log_column():
    embedding = fit_embedding(_fleet())
    new = _fleet(2, seed=4).assign(n_parameters=[0.0, 1e6])

    matrix = embedding.embedder.transform(new)

    assert np.isfinite(matrix).all()


def test_duplicate_model_ids_are_refused():
    fleet = _fleet()
    fleet.loc[5, "model_id"] = "m1"

    with pytest.raises(DataError, match="'m1' appears more than once"):
        fit_embedding(fleet)


def test_option_naming_an_unknown_column_is_refused():
    with pytest.raises(DataError, match=r"\['size'\].*not in the metadata"):
        fit_embedding(_fleet(), log_columns=["size"])


def test_every_column_constant_gives_an_empty_embedding():
    fleet = pd.DataFrame({"model_id": ["a", "b", "c"], "goal": ["ctr"] * 3})

    with pytest.warns(DataWarning, match="goal"):
        embedding = fit_embedding(fleet)

    assert embedding.matrix.shape == (3, 0)
    assert embedding.embedder.transform(fleet).shape == (3, 0)


_numbers = st.one_of(st.floats(-1e12, 1e12, allow_nan=False), st.just(float("nan")))


@st.composite
def _frames(draw: st.DrawFn) -> pd.DataFrame:
    n_models = draw(st.integers(1, 25))
    column = st.lists(_numbers, min_size=n_models, max_size=n_models)
    words = st.sampled_from(["a", "b", "c", None])
    sets = st.sampled_from(["x;y", "y", "", None, "x;z;y"])
    return pd.DataFrame(
        {
            "size": draw(column),
            "count": [abs(x) for x in draw(column)],
            "kind": draw(st.lists(words, min_size=n_models, max_size=n_models)),
            "groups": draw(st.lists(sets, min_size=n_models, max_size=n_models)),
        }
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=_frames(), pca=st.sampled_from([None, "auto", 2]))
def test_embedding_of_any_finite_frame_is_finite(frame, pca):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        embedding = fit_embedding(frame, pca=pca)
        again = embedding.embedder.transform(frame)

    assert embedding.matrix.shape[0] == len(frame)
    assert np.isfinite(embedding.matrix).all()
    assert np.allclose(again, embedding.matrix, atol=1e-8)
