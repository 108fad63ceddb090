"""Clusters on a synthetic customer base of well-separated groups built here: the groups come back, the
words fit how each group was built, and a seed fixes the labels."""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from loyalty.models.clusters import FEATURES, cluster_customers, cluster_features, describe
from loyalty.period import resolve_period
from tests.shop import insert, order

GROUPS = {  # name -> typical recency (days), orders, revenue, tenure (days); each spread ±20% log-normally
    "stars": (5, 60, 80_000, 1500),
    "gone": (700, 1, 90, 900),
    "newcomers": (10, 2, 400, 30),
}


def synthetic_base(per_group: int = 150, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    for name, centre in GROUPS.items():
        values = np.array(centre, float) * rng.lognormal(0, 0.2, (per_group, 4))
        frames.append(pd.DataFrame(values, columns=FEATURES).assign(group=name))
    base = pd.concat(frames, ignore_index=True)
    base["frequency"] = base["frequency"].round().clip(lower=1)
    return base.assign(customer_id=[f"S{i:04d}" for i in range(len(base))])


def test_the_groups_come_back_and_the_words_fit():
    base = synthetic_base()
    result = cluster_customers(base, seed=3)
    assert result.k == 3 and result.silhouette == max(result.silhouettes.values()) and result.silhouette > 0.6
    joined = base.merge(result.labels, on="customer_id")
    crossing = pd.crosstab(joined["group"], joined["cluster"])
    assert ((crossing > 0).sum(axis=1) == 1).all() and ((crossing > 0).sum(axis=0) == 1).all()   # one to one
    cluster_of = crossing.idxmax(axis=1)
    assert cluster_of["stars"] == 1                           # numbered by revenue, largest first
    words = result.profiles.set_index("cluster")["description"]
    assert set(words[cluster_of["stars"]].split(", ")) >= {"recently active", "frequent", "high-value", "long-standing"}
    assert set(words[cluster_of["gone"]].split(", ")) >= {"lapsed", "occasional", "low-value"}
    assert "new" in words[cluster_of["newcomers"]].split(", ")
    sizes = result.profiles.set_index("cluster")["customers"]
    assert sizes.tolist() == [150, 150, 150] and result.profiles["share"].sum() == pytest.approx(1.0)


def test_same_seed_same_labels_and_k_can_be_fixed():
    base = synthetic_base(seed=2)
    first, again = cluster_customers(base, seed=9), cluster_customers(base, seed=9)
    assert first.labels.equals(again.labels) and first.silhouettes == again.silhouettes
    four = cluster_customers(base, k=4, seed=9)
    assert four.k == 4 and sorted(four.labels["cluster"].unique()) == [1, 2, 3, 4]
    assert four.silhouette == first.silhouettes[4]


def test_words_from_a_centroid():
    assert describe(np.array([-1.0, 0.7, 2.0, 0.1])) == "recently active, frequent, high-value"
    assert describe(np.array([0.2, -0.2, 0.0, 0.4])) == "average on every count"


def test_too_few_customers_say_so():
    base = synthetic_base(per_group=1).head(2)
    result = cluster_customers(base)
    assert result.k == 0 and "too few" in result.note


def test_cluster_features_from_orders(con):
    insert(con, "orders", [order("A", "2024-01-01", 100, order_id="A1"), order("A", "2024-05-31", -30, order_id="A2"),
                           order("B", "2024-06-20", -5, order_id="B1")])
    rows = cluster_features(con, resolve_period(date(2024, 6, 30), date(2024, 6, 30))).set_index("customer_id")
    assert rows.loc["A"].tolist() == [30, 2, 70.0, 181]
    assert rows.loc["B"].tolist() == [10, 1, 0.0, 10]            # net revenue below zero counts as zero
