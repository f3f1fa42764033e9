"""Fixtures of the scikit-learn and pandas artifacts (family "ml").

These objects are rebuilt by picklejar as tables (pandas) or inert objects holding ndarrays
(scikit-learn), not described by the generic Desc format: each fixture's json has an "expect" field
with what a JS user should be able to read (column labels and values, fitted attributes), computed
here from the live Python objects. Files: pickle.dumps at protocols 2, 4, 5 and joblib.dump
uncompressed and zlib-compressed.
"""
from __future__ import annotations

import io
import math
import pickle
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

FAMILY = 'ml'


def plain(v: Any) -> Any:
    """JSON form of a cell: floats as numbers except nan/inf ({"float": repr}), datetimes as ISO."""
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, (pd.Timestamp,)):
        return {'datetime': v.isoformat()}
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer, int)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        f = float(v)
        return f if math.isfinite(f) else {'float': repr(f)}
    if isinstance(v, tuple):
        return [plain(x) for x in v]
    return v


def frame_expect(df: pd.DataFrame) -> dict:
    return {
        'kind': 'DataFrame',
        'columns': [plain(c) for c in df.columns],
        'index': [plain(i) for i in df.index],
        'data': {str(c): [plain(x) for x in df[c].tolist()] for c in df.columns},
    }


def series_expect(s: pd.Series) -> dict:
    return {'kind': 'Series', 'name': plain(s.name), 'index': [plain(i) for i in s.index],
            'values': [plain(x) for x in s.tolist()]}


def arr(a: Any) -> Any:
    return {'shape': list(np.shape(a)), 'values': np.asarray(a).ravel().tolist()}


def joblib_bytes(value: Any, compress: int) -> bytes:
    buf = io.BytesIO()
    joblib.dump(value, buf, compress=compress)
    return buf.getvalue()


def add(writer: Any, name: str, value: Any, expect: dict) -> None:
    files = []
    for p in (2, 4, 5):
        files.append(writer.pickle_file(FAMILY, name, p, pickle.dumps(value, protocol=p)))
    for c in (0, 3):
        path = writer.file(FAMILY, f'{name}.c{c}.joblib', joblib_bytes(value, c))
        files.append({'path': path, 'kind': 'joblib', 'compress': c})
    writer.fixture(FAMILY, name, {'expect': expect, 'note': 'expect: see scripts/fixtures_ml.py'}, files)


def generate(writer: Any) -> None:
    rng = np.random.RandomState(42)

    df = pd.DataFrame({
        'a': [1, 2, 3],
        'b': [0.5, float('nan'), 2.5],
        's': ['x', None, 'z'],
        'flag': [True, False, True],
        'when': pd.to_datetime(['2020-01-01', None, '2021-06-30 12:00']),
        'cat': pd.Categorical(['lo', 'hi', 'lo']),
    })
    add(writer, 'dataframe_mixed', df, frame_expect(df))
    labelled = pd.DataFrame({'x': [1.0, 2.0], 'z': [3, 4], 'y': [5.0, 6.0]}, index=['r1', 'r2'])
    add(writer, 'dataframe_string_index', labelled, frame_expect(labelled))
    fortran = pd.DataFrame(np.arange(6.).reshape(3, 2), columns=['c0', 'c1'])
    add(writer, 'dataframe_fortran_block', fortran, frame_expect(fortran))
    multi = pd.DataFrame({'v': [1, 2]}, index=pd.MultiIndex.from_tuples([('a', 1), ('b', 2)]))
    add(writer, 'dataframe_multiindex', multi, frame_expect(multi))
    s = pd.Series([1.5, float('nan'), 3.0], index=[10, 20, 30], name='price')
    add(writer, 'series_float', s, series_expect(s))
    s2 = pd.Series(['a', 'b'], name=None)
    add(writer, 'series_object', s2, series_expect(s2))

    X = rng.normal(size=(40, 2))
    y = X @ np.array([1.5, -2.0]) + 0.25
    lin = LinearRegression().fit(X, y)
    add(writer, 'sklearn_linear_regression', lin, {
        'kind': 'LinearRegression', 'cls': 'sklearn.linear_model._base.LinearRegression',
        'coef_': arr(lin.coef_), 'intercept_': float(lin.intercept_), 'n_features_in_': lin.n_features_in_,
    })

    yc = (X[:, 0] > 0).astype(int)
    pipe = Pipeline([('scaler', StandardScaler()), ('clf', LogisticRegression())]).fit(X, yc)
    add(writer, 'sklearn_pipeline', pipe, {
        'kind': 'Pipeline', 'cls': 'sklearn.pipeline.Pipeline',
        'steps': [name for name, _ in pipe.steps],
        'scaler': {'mean_': arr(pipe[0].mean_), 'scale_': arr(pipe[0].scale_),
                   'n_samples_seen_': int(pipe[0].n_samples_seen_)},
        'clf': {'coef_': arr(pipe[1].coef_), 'intercept_': arr(pipe[1].intercept_), 'classes_': arr(pipe[1].classes_)},
    })

    tree = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, yc)
    t = tree.tree_
    add(writer, 'sklearn_decision_tree', tree, {
        'kind': 'DecisionTreeClassifier', 'cls': 'sklearn.tree._classes.DecisionTreeClassifier',
        'classes_': arr(tree.classes_), 'node_count': int(t.node_count), 'max_depth': int(t.max_depth),
        'left_child': t.children_left.tolist(), 'right_child': t.children_right.tolist(),
        'feature': t.feature.tolist(), 'threshold': t.threshold.tolist(), 'value': arr(t.value),
    })

    # GridSearchCV.cv_results_ holds numpy masked arrays of object dtype ('param_*' columns).
    search = GridSearchCV(LogisticRegression(), {'C': [0.1, 1.0], 'fit_intercept': [True, False]}, cv=2).fit(X, yc)
    params = {k: v for k, v in search.cv_results_.items() if k.startswith('param_')}
    add(writer, 'sklearn_grid_search', search, {
        'kind': 'GridSearchCV', 'cls': 'sklearn.model_selection._search.GridSearchCV',
        'best_params_': search.best_params_,
        'params': {k: {'data': [plain(x) for x in v.data.tolist()], 'mask': np.ma.getmaskarray(v).tolist(),
                       'fill_value': plain(v.fill_value)} for k, v in params.items()},
        'mean_test_score': arr(search.cv_results_['mean_test_score']),
    })

