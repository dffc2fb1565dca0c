"""Dataset registry: every preset seeded and offline, sizes as declared, standardized with training statistics."""
import pytest
import torch

from wdlab.registry.datasets import DATA_SEED, DATASETS, TUTORIAL
from wdlab.engine.models import build_mlp

BUILT_IN = [name for name, spec in DATASETS.items() if name != "csv"]   # csv: a table the visitor brings


@pytest.mark.parametrize("name", BUILT_IN)
def test_each_preset_has_the_declared_shape_and_task(name):
    spec = DATASETS[name]
    d = spec.make(0, None)
    n_train, n_val = spec.sizes(None)
    assert (len(d.X_train), len(d.X_val)) == (n_train, n_val)
    assert d.task == spec.task and (d.in_dim, d.out_dim) == (spec.in_dim, spec.out_dim)
    assert d.X_train.dtype == d.X_val.dtype == torch.float32
    assert torch.isfinite(d.X_train).all() and torch.isfinite(d.X_val).all()
    assert len(d.feature_names) == spec.in_dim
    if d.task == "classification":
        assert d.y_train.dtype == torch.int64 and d.y_train.dim() == 1
        assert set(d.y_train.tolist()) == set(range(d.n_classes))           # every class is present
        assert d.y_val.min() >= 0 and d.y_val.max() < d.n_classes
    else:
        assert d.y_train.shape == (n_train, 1) and d.y_train.dtype == torch.float32


@pytest.mark.parametrize("name", BUILT_IN)
def test_each_preset_is_reproducible(name):
    spec = DATASETS[name]
    torch.manual_seed(123)
    a = spec.make(4, 0.3)
    torch.manual_seed(123)
    b = spec.make(4, 0.3)
    for field in ("X_train", "y_train", "X_val", "y_val"):
        assert torch.equal(getattr(a, field), getattr(b, field))
    if not spec.per_seed:                       # drawn from its own generator: the global RNG is irrelevant
        torch.manual_seed(999)
        c = spec.make(7, 0.3)
        assert torch.equal(a.X_train, c.X_train) and torch.equal(a.y_val, c.y_val)


def test_tutorial_data_is_the_courses_draw_after_the_model():
    for seed in (0, 3):
        torch.manual_seed(seed)
        build_mlp(20, (64,), 1)
        X, y = torch.randn(1000, 20), torch.randn(1000, 1)
        torch.manual_seed(seed)
        build_mlp(20, (64,), 1)
        d = TUTORIAL.make(seed, None)
        assert torch.equal(d.X_train, X) and torch.equal(d.y_train, y)
        assert d.X_val.shape == (250, 20)                     # 20 % held out: drawn after the course's data


def test_fixed_train_sets_keep_their_training_size_at_any_split():
    for name, n in [("tutorial", 1000), ("highdim-linear", 20), ("moons", 200), ("spirals", 300)]:
        for vf in (0.05, 0.2, 0.5):
            n_train, n_val = DATASETS[name].sizes(vf)
            assert n_train == n and n_val == max(1, round(n * vf / (1 - vf)))
    assert DATASETS["highdim-linear"].sizes(None) == (20, 100)


@pytest.mark.parametrize("name,loader", [("digits", "load_digits"), ("diabetes", "load_diabetes"),
                                         ("breast-cancer", "load_breast_cancer")])
def test_real_tables_are_split_and_standardized_with_training_statistics(name, loader):
    import sklearn.datasets
    bunch = getattr(sklearn.datasets, loader)()
    X = torch.tensor(bunch.data, dtype=torch.float32)
    spec = DATASETS[name]
    d = spec.make(0, 0.2)
    n_train, n_val = spec.sizes(0.2)
    assert n_train + n_val == len(X) and n_val == round(len(X) * 0.2)
    perm = torch.randperm(len(X), generator=torch.Generator().manual_seed(DATA_SEED))
    raw_train, raw_val = X[perm[n_val:]], X[perm[:n_val]]
    mean, std = raw_train.mean(0), raw_train.std(0)
    std = torch.where(std > 0, std, torch.ones_like(std))      # constant pixels are left at 0, not divided by 0
    assert torch.allclose(d.X_train, (raw_train - mean) / std, atol=1e-5)
    assert torch.allclose(d.X_val, (raw_val - mean) / std, atol=1e-5)   # the held-out rows use training stats
    assert d.X_train.mean(0).abs().max() < 1e-4
    spread = d.X_train.std(0)
    assert torch.allclose(spread[std != 1], torch.ones_like(spread[std != 1]), atol=1e-4)
    if d.task == "regression":
        assert abs(d.y_train.mean().item()) < 1e-5 and abs(d.y_train.std().item() - 1) < 1e-5
        assert any("training statistics" in note for note in d.notes)
        # its scale is kept: y·std + mean gives back the table's own targets
        y = torch.tensor(bunch.target, dtype=torch.float64)
        mean_y, std_y = d.target_scale
        assert mean_y == pytest.approx(float(y[perm[n_val:]].mean()), rel=1e-6)
        assert std_y == pytest.approx(float(y[perm[n_val:]].std()), rel=1e-6)
        assert torch.allclose(d.y_val[:, 0].double() * std_y + mean_y, y[perm[:n_val]], atol=1e-3)
    else:
        assert d.target_scale is None and len(d.class_names) == d.n_classes
        assert d.class_names == tuple(str(c) for c in bunch.target_names)
        assert torch.equal(torch.cat([d.y_train, d.y_val]).sort().values,
                           torch.tensor(bunch.target).sort().values)


def test_two_d_sets_are_balanced_and_need_their_hidden_layer():
    for name in ("moons", "spirals"):
        d = DATASETS[name].make(0, None)
        counts = torch.bincount(torch.cat([d.y_train, d.y_val]))
        assert counts[0] == counts[1]
        assert d.X_train.mean(0).abs().max() < 1e-5
    # spirals are not linearly separable: the best linear classifier stays near chance
    from sklearn.linear_model import LogisticRegression
    d = DATASETS["spirals"].make(0, None)
    assert LogisticRegression().fit(d.X_train.numpy(), d.y_train.numpy()).score(d.X_train.numpy(),
                                                                                d.y_train.numpy()) < 0.75


def test_highdim_linear_follows_its_formula():
    d = DATASETS["highdim-linear"].make(0, None)
    X = torch.cat([d.X_train, d.X_val])
    y = torch.cat([d.y_train, d.y_val])
    noise = y - (0.05 + 0.01 * X.sum(1, keepdim=True))
    assert noise.std() < 0.015 and abs(noise.mean()) < 0.005
