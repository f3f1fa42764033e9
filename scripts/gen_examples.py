"""Write the example files shipped in examples/ (used by the README and the CLI tests).

Deterministic: fixed seeds, no timestamps. Run with a Python that has numpy, scikit-learn, pandas
and joblib (npm run examples).
"""
import datetime
import os
import pickle
import sys

import joblib
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'examples')


def main() -> None:
    os.makedirs(HERE, exist_ok=True)
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    model = Pipeline([('scaler', StandardScaler()), ('clf', LogisticRegression())]).fit(X, y)
    joblib.dump(model, os.path.join(HERE, 'model.joblib'), compress=3, protocol=4)

    frame = pd.DataFrame({
        'city': ['Lyon', 'Oslo', 'Lima'],
        'temp': [12.5, -3.0, 19.25],
        'visits': [3, 7, 1],
    })
    data = {
        'name': 'weather',
        'created': datetime.datetime(2024, 5, 17, 9, 30, 0, 123456),
        'readings': np.arange(12, dtype='<f4').reshape(3, 4),
        'tags': ('daily', 'europe'),
        'frame': frame,
        'flags': {1: True, 2: False},
    }
    with open(os.path.join(HERE, 'data.pkl'), 'wb') as f:
        pickle.dump(data, f, protocol=4)
    print('wrote examples/model.joblib and examples/data.pkl', file=sys.stderr)


if __name__ == '__main__':
    main()
