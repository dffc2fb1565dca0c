"""Fixtures shared by the Ray tests of this folder."""
import pytest

from support import ROOT


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray of 2 CPUs per module, for the tests that do not start their own."""
    import ray  # deferred: only the Ray tests (which skip or require Ray themselves) ask for this fixture
    from wdlab.run.ray_backend import LOCAL
    ray.init(**LOCAL, num_cpus=2, logging_level="warning", log_to_driver=False,
             runtime_env={"py_modules": [str(ROOT / "wdlab")]})
    yield
    ray.shutdown()
