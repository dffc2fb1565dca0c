"""`wdlab run --device`: a device that is not here is one line and exit 2; cpu is the default's CSV."""
import pytest
import torch

from wdlab.cli.main import main

SMALL = ["run", "--preset", "moons", "--hidden", "4", "--epochs", "2", "--wd", "0", "0.1", "--quiet"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is present: --device cuda trains")
@pytest.mark.parametrize("extra", [[], ["--workers", "2"], ["--backend", "ray"]])
def test_cuda_without_cuda_is_one_clear_line(extra, capsys):
    assert main([*SMALL, "--device", "cuda", *extra]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith("wdlab: error: --device cuda: this machine has no CUDA device torch can use")


def test_unknown_device_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as e:
        main([*SMALL, "--device", "tpu"])
    assert e.value.code == 2 and "--device: takes cpu, cuda, cuda:N or mps, got 'tpu'" in capsys.readouterr().err


def test_device_cpu_writes_the_default_csv(capsys):
    assert main([*SMALL, "--device", "cpu"]) == 0
    first = capsys.readouterr().out
    assert main(SMALL) == 0
    assert capsys.readouterr().out == first
