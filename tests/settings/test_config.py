"""SweepConfig validation (messages that say what is allowed), its normal form, limits and demo mode."""
import pytest

from wdlab.engine.budget import check_limits, count_params, validate
from wdlab.settings.config import DEFAULT_LIMITS, DEMO_LIMITS, ConfigError, Limits, SweepConfig
from wdlab.registry.datasets import DATASETS
from wdlab.engine.models import build_mlp


@pytest.mark.parametrize("changes,field,allowed", [
    (dict(preset="mnist"), "preset", "allowed: tutorial, highdim-linear"),
    (dict(preset=["tutorial"]), "preset", "allowed: tutorial"),
    (dict(activation="sigmoid"), "activation", "choose one of: relu, tanh, gelu"),
    (dict(optimizers=("lion",)), "optimizers", "choose one of: sgd, adam, adamw, rmsprop"),
    (dict(optimizers=()), "optimizers", "at least one optimizer"),
    (dict(optimizers="adam"), "optimizers", "a list of names"),
    (dict(optimizers=("adam", "adam")), "optimizers", "distinct"),
    (dict(lrs=()), "lrs", "at least one learning rate"),
    (dict(lrs=(0.1, 0.1)), "lrs", "distinct"),
    (dict(lrs=(0.1, 11.0)), "lrs", "≤ 10"),
    (dict(norm="batchnorm"), "norm", "choose one of: none, layernorm"),
    (dict(optimizers=("adam", "adamw"), momentum=0.9), "momentum", "add sgd"),
    (dict(dtype="float16"), "dtype", "choose one of: float32, float64"),
    (dict(lrs=(0.0,)), "lrs", "> 0 and ≤ 10"),
    (dict(lrs=(float("nan"),)), "lrs", "finite number"),
    (dict(lrs=("0.1",)), "lrs", "finite number > 0"),
    (dict(lrs=(True,)), "lrs", "finite number"),
    (dict(momentum=1.0), "momentum", "≥ 0 and ≤ 0.999"),
    (dict(momentum=0.9), "momentum", "momentum applies to sgd only"),
    (dict(epochs=0), "epochs", "whole number ≥ 1"),
    (dict(epochs=2.5), "epochs", "whole number ≥ 1"),
    (dict(batch_size=0), "batch_size", "whole number ≥ 1"),
    (dict(hidden=(64, 0)), "hidden", "whole numbers ≥ 1"),
    (dict(hidden=64), "hidden", "a list of widths"),
    (dict(hidden="64"), "hidden", "a list of widths"),
    (dict(weight_decays=()), "weight_decays", "at least one weight_decay"),
    (dict(weight_decays=0.1), "weight_decays", "a list of numbers"),
    (dict(weight_decays=(0.1, -1.0)), "weight_decays", "≥ 0 and ≤ 100"),
    (dict(weight_decays=("a",)), "weight_decays", "finite number"),
    (dict(weight_decays=(float("inf"),)), "weight_decays", "finite number"),
    (dict(weight_decays=(0.1, 0.1)), "weight_decays", "distinct"),
    (dict(seeds=()), "seeds", "at least one seed"),
    (dict(seeds=3), "seeds", "a list of whole numbers"),
    (dict(seeds=(1.0,)), "seeds", "from 0 to 2147483647"),
    (dict(seeds=(-1,)), "seeds", "from 0 to 2147483647"),
    (dict(seeds=(2, 2)), "seeds", "distinct"),
    (dict(val_fraction=0.9), "val_fraction", "≥ 0.05 and ≤ 0.5"),
    (dict(decay_bias="yes"), "decay_bias", "true or false"),
])
def test_bad_settings_are_refused_with_what_is_allowed(changes, field, allowed):
    with pytest.raises(ConfigError) as e:
        SweepConfig(**changes)
    assert e.value.field == field
    assert allowed in str(e.value)


def test_lists_are_normalised_so_equal_sweeps_have_equal_configs():
    a = SweepConfig(weight_decays=[0.1, 0, 1e-3], seeds=[2, 0], hidden=[32, 16])
    b = SweepConfig(weight_decays=(0.0, 0.001, 0.1), seeds=(0, 2), hidden=(32, 16))
    assert a == b and hash(a) == hash(b)
    assert a.weight_decays == (0.0, 0.001, 0.1) and all(type(w) is float for w in a.weight_decays)
    assert [(m.weight_decay, m.seed) for m in a.members] == [(0.0, 0), (0.0, 2), (0.001, 0), (0.001, 2), (0.1, 0),
                                                              (0.1, 2)]
def test_optimizer_and_lr_grids_are_normalised_and_members_are_grouped_by_optimizer_and_lr():
    a = SweepConfig(optimizers=["rmsprop", "adamw", "sgd"], lrs=[0.1, 0.003], weight_decays=(0.0, 0.1), seeds=(1, 0))
    b = SweepConfig(optimizers=("sgd", "adamw", "rmsprop"), lrs=(0.003, 0.1), weight_decays=(0.1, 0.0), seeds=(0, 1))
    assert a == b and a.optimizers == ("sgd", "adamw", "rmsprop") and a.lrs == (0.003, 0.1)  # registry order
    assert len(a.members) == 3 * 2 * 2 * 2
    assert a.members[:5] == [("sgd", 0.003, 0.0, 0), ("sgd", 0.003, 0.0, 1), ("sgd", 0.003, 0.1, 0),
                             ("sgd", 0.003, 0.1, 1), ("sgd", 0.1, 0.0, 0)]
    groups = [m[:2] for m in a.members]
    assert groups == sorted(groups, key=lambda g: (a.optimizers.index(g[0]), g[1]))  # each group contiguous
    with pytest.raises(ValueError, match="3 optimizers; read cfg.optimizers"):
        a.optimizer
    with pytest.raises(ValueError, match="2 learning rates; read cfg.lrs"):
        a.lr
    assert SweepConfig(optimizers=("sgd", "adam"), momentum=0.9).momentum == 0.9  # momentum: the sgd members
    with pytest.raises(ConfigError):
        a.replace(lrs=(-1.0,))                         # replace validates too


def test_config_is_frozen():
    with pytest.raises(AttributeError):
        SweepConfig().lr = 1.0


def test_count_params_is_the_number_of_model_parameters():
    for hidden in [(), (7,), (5, 3, 2)]:
        for norm in ("none", "layernorm"):
            model = build_mlp(11, hidden, 4, norm=norm)
            assert count_params(11, hidden, 4, norm) == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("changes,limits,says", [
    (dict(weight_decays=tuple(i / 100 for i in range(9))), DEMO_LIMITS, "9 weight_decay values (at most 8)"),
    (dict(seeds=(0, 1, 2, 3)), DEMO_LIMITS, "4 seeds (at most 3)"),
    (dict(weight_decays=(0.0, 0.1, 0.2), seeds=(0, 1)), Limits(max_members=5),
     "6 members = optimizers × lrs × weight_decays × seeds (at most 5)"),
    (dict(optimizers=("adam", "adamw"), lrs=(0.01, 0.1), weight_decays=(0.0, 0.1)), Limits(max_members=7),
     "8 members = optimizers × lrs × weight_decays × seeds (at most 7)"),
    (dict(lrs=(1e-4, 3e-4, 1e-3, 3e-3, 1e-2)), DEMO_LIMITS, "5 learning rates (at most 4)"),
    (dict(epochs=501), DEMO_LIMITS, "501 epochs (at most 500)"),
    (dict(hidden=(8, 8, 8, 8)), DEMO_LIMITS, "4 hidden layers (at most 3)"),
    (dict(hidden=(257,)), DEMO_LIMITS, "width 257 (at most 256)"),
    (dict(epochs=400, batch_size=10), DEMO_LIMITS, "40000 optimizer steps"),
    (dict(epochs=2000, hidden=(1024, 1024), weight_decays=tuple(i / 10 for i in range(16)), seeds=(0, 1, 2, 3)),
     DEFAULT_LIMITS, "multiply-adds"),
])
def test_limits_name_what_is_too_large(changes, limits, says):
    cfg = SweepConfig(preset="tutorial", **changes)
    with pytest.raises(ConfigError) as e:
        validate(cfg, limits)
    assert str(e.value).startswith("too large: ") and says in str(e.value)


def test_steps_count_batches_per_epoch_and_a_course_sized_demo_sweep_passes():
    n_train, _ = DATASETS["tutorial"].sizes(None)
    assert n_train == 1000
    ok = SweepConfig(preset="tutorial", epochs=100, batch_size=10)      # 100 × 100 = 10,000 steps
    validate(ok, DEMO_LIMITS)
    with pytest.raises(ConfigError, match="10100 optimizer steps"):
        validate(ok.replace(epochs=101), DEMO_LIMITS)
    # a batch larger than the data is one full batch per epoch
    validate(SweepConfig(preset="tutorial", epochs=500, batch_size=5000), DEMO_LIMITS)
    big = SweepConfig(preset="tutorial", weight_decays=tuple(i / 10 for i in range(8)), seeds=(0, 1, 2),
                      epochs=500, hidden=(64,))      # the course's net, 24 members, 500 epochs: ≈1e11 work
    validate(big, DEMO_LIMITS)
    with pytest.raises(ConfigError, match="multiply-adds"):
        validate(big.replace(hidden=(64, 64, 64)), DEMO_LIMITS)


def test_check_limits_uses_the_given_dataset_size():
    cfg = SweepConfig(preset="tutorial", epochs=10, batch_size=10)
    check_limits(cfg, Limits(max_steps=100), n_train=100, n_params=10)
    with pytest.raises(ConfigError, match="110 optimizer steps"):
        check_limits(cfg, Limits(max_steps=100), n_train=101, n_params=10)
