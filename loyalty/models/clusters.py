"""Customer clusters: KMeans over standardised log recency, frequency, revenue and tenure, as of the
as-of date, each cluster described in words.

Choices
- Features per customer with an order in scope (SQL): days since the last order, orders, net revenue
  (below zero counts as zero) and days since the first order; each as log(1 + value), then standardised
  (mean 0, standard deviation 1 over the customers), so no feature dominates by its unit.
- k: the k in 2..8 with the best silhouette on a sample of at most `SAMPLE` customers (drawn with the
  seed), unless the caller fixes k; the silhouettes of every k tried are returned to be shown.
- KMeans (4 starts) up to `MINIBATCH_ABOVE` customers, MiniBatchKMeans above; the same seed gives the
  same labels. Clusters are numbered by mean revenue, largest first (cluster 1 is the most valuable).
- Words: a cluster's centroid is compared with the overall mean (0) feature by feature; more than
  `WORD_THRESHOLD` standard deviations away earns the feature's word ("frequent", "lapsed", …); a cluster
  near the mean on every feature is "average on every count".
"""
from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler

from ..period import Period
from ..metrics.scope import frame
from . import fitting_threads

FEATURES = ["recency_days", "frequency", "revenue", "tenure_days"]
WORDS = {  # feature -> (word when well below the mean, word when well above)
    "recency_days": ("recently active", "lapsed"),
    "frequency": ("occasional", "frequent"),
    "revenue": ("low-value", "high-value"),
    "tenure_days": ("new", "long-standing"),
}
WORD_THRESHOLD = 0.5
K_RANGE = range(2, 9)
SAMPLE = 2000
MINIBATCH_ABOVE = 50_000

CLUSTER_FEATURES = """
SELECT customer_id, date_diff('day', last_order, $as_of) AS recency_days, orders AS frequency,
       greatest(revenue, 0)::DOUBLE AS revenue, date_diff('day', first_order, $as_of) AS tenure_days
FROM buyers ORDER BY customer_id
"""


def cluster_features(con: duckdb.DuckDBPyConnection, period: Period) -> pd.DataFrame:
    """Per customer with an order in scope: recency and tenure in days, orders, net revenue (≥ 0)."""
    return frame(con, CLUSTER_FEATURES, period)


@dataclass(frozen=True)
class Clustering:
    """The chosen k and its silhouette, the silhouette of every k tried, each customer's cluster and each
    cluster's profile (size, description, medians)."""
    k: int
    silhouette: float | None
    silhouettes: dict[int, float]
    labels: pd.DataFrame      # customer_id, cluster
    profiles: pd.DataFrame    # cluster, customers, share, description, median of each feature
    algorithm: str
    note: str | None = None   # why there is no clustering (too few customers)


def _model(k: int, seed: int, rows: int):
    if rows > MINIBATCH_ABOVE:
        return MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3, batch_size=4096)
    return KMeans(n_clusters=k, random_state=seed, n_init=4)


def standardised(features: pd.DataFrame) -> np.ndarray:
    """log(1 + feature), standardised over the customers."""
    logged = np.log1p(np.maximum(features[FEATURES].to_numpy(float), 0))
    return StandardScaler().fit_transform(logged)


def _sample(points: np.ndarray, seed: int) -> np.ndarray:
    if len(points) <= SAMPLE:
        return points
    return points[np.random.default_rng(seed).choice(len(points), SAMPLE, replace=False)]


def silhouettes_by_k(points: np.ndarray, seed: int) -> dict[int, float]:
    """The silhouette of each k in K_RANGE (fitted and scored on one seeded sample)."""
    sample = _sample(points, seed)
    distinct = len(np.unique(sample, axis=0))
    scores = {}
    for k in K_RANGE:
        if k >= distinct:
            break
        labels = _model(k, seed, len(sample)).fit_predict(sample)
        scores[k] = float(silhouette_score(sample, labels, random_state=seed))
    return scores


def describe(centroid: np.ndarray) -> str:
    """A cluster in words, from its standardised centroid (see the module docstring)."""
    words = []
    for feature, z in zip(FEATURES, centroid):
        low, high = WORDS[feature]
        if z > WORD_THRESHOLD:
            words.append(high)
        elif z < -WORD_THRESHOLD:
            words.append(low)
    return ", ".join(words) or "average on every count"


def cluster_customers(features: pd.DataFrame, k: int | None = None, seed: int = 0) -> Clustering:
    """Cluster the customers of `features` (customer_id and FEATURES); k chosen by silhouette unless given."""
    points = standardised(features) if len(features) else np.empty((0, len(FEATURES)))
    distinct = len(np.unique(points, axis=0))
    if distinct < 3:
        empty = pd.DataFrame(columns=["cluster", "customers", "share", "description", *FEATURES])
        return Clustering(0, None, {}, pd.DataFrame({"customer_id": features["customer_id"], "cluster": 0}), empty,
                          "none", f"{distinct} distinct customer profile(s): too few to form clusters")
    with fitting_threads():
        silhouettes = silhouettes_by_k(points, seed)
        k = min(k, distinct - 1) if k else max(silhouettes, key=silhouettes.get)
        model = _model(k, seed, len(points)).fit(points)
    raw = model.labels_
    order = np.argsort([-features["revenue"].to_numpy(float)[raw == c].mean() for c in range(k)], kind="stable")
    number = np.empty(k, dtype=int)
    number[order] = np.arange(1, k + 1)
    labels = number[raw]
    centroids = [points[labels == c].mean(axis=0) for c in range(1, k + 1)]
    profiles = (features.assign(cluster=labels).groupby("cluster")[FEATURES].median().reset_index()
                .assign(customers=np.bincount(labels, minlength=k + 1)[1:],
                        description=[describe(c) for c in centroids]))
    profiles["share"] = profiles["customers"] / len(features)
    profiles = profiles[["cluster", "customers", "share", "description", *FEATURES]]
    silhouette = silhouettes.get(k)
    algorithm = type(model).__name__
    return Clustering(k, silhouette, silhouettes, pd.DataFrame({"customer_id": features["customer_id"].to_numpy(),
                                                                "cluster": labels}), profiles, algorithm)


def customer_clusters(con: duckdb.DuckDBPyConnection, period: Period, k: int | None = None, seed: int = 0) -> Clustering:
    """The customers in scope clustered as of the as-of date (see the module docstring)."""
    return cluster_customers(cluster_features(con, period), k, seed)
