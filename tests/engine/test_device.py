"""One device string through the engine: the CPU path unchanged; on CUDA (where present) equal in float64."""
import pandas as pd
import pytest
import torch

from wdlab.engine.sweep import device_problem, run_sweep
from wdlab.settings.config import SweepConfig, host_device

CFG = SweepConfig(preset="moons", hidden=(8, 8), norm="layernorm", optimizers=("adam", "sgd"), lrs=(0.01,),
                  epochs=6, batch_size=32, dtype="float64", weight_decays=(0.0, 0.1), seeds=(0, 1))
NO_CUDA = "no CUDA device here (torch built without CUDA, or no GPU visible): the GPU path is checked where one is"


def test_device_cpu_is_the_engine_itself():
    pd.testing.assert_frame_equal(run_sweep(CFG, device="cpu").frame, run_sweep(CFG).frame, check_exact=True)


@pytest.mark.skipif(not torch.cuda.is_available(), reason=NO_CUDA)
def test_members_on_cuda_equal_the_cpu_in_float64():
    cpu = run_sweep(CFG.replace(epochs=30)).frame
    gpu = run_sweep(CFG.replace(epochs=30), device="cuda", max_chunk_members=3).frame
    pd.testing.assert_frame_equal(gpu, cpu, check_exact=False, rtol=1e-9, atol=1e-12)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is present: nothing to refuse")
def test_cuda_without_cuda_is_one_line():
    assert device_problem("cuda").startswith("--device cuda: this machine has no CUDA device torch can use (")
    assert device_problem("cpu") is None


def test_host_device_setting():
    assert host_device({}) == "cpu" and host_device({"WDLAB_DEVICE": "cuda:1"}) == "cuda:1"
    assert host_device({"WDLAB_DEVICE": "tpu"}) == "cpu" and host_device({"WDLAB_DEVICE": " MPS "}) == "mps"
