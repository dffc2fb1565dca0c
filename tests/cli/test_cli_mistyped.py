"""The CLI's help reads as English and a mistyped flag is answered with the flag meant (issue 27, item 9)."""
import re

import pytest

from wdlab.cli.main import main


def test_run_help_text(capsys):
    with pytest.raises(SystemExit) as e:
        main(["run", "--help"])
    assert e.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "the tutorial's tutorial" not in out and "(default: tutorial)" in out and "%%" not in out
    assert "(default: the preset's own; the tutorial's 64)" in out  # the other flags keep the preset's own


@pytest.mark.parametrize("argv, meant", [
    (["run", "--optimzer", "adam"], "--optimizer"),
    (["run", "--epohcs", "3", "--wd=0"], "--epochs"),
    (["code", "--member", "0", "0", "--seds", "0"], "--seeds"),
    (["run", "--optimzer", "adam", "--lrr", "0.1"], "--optimizer / --lr"),
])
def test_a_mistyped_flag_gets_a_did_you_mean(argv, meant, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    out, err = capsys.readouterr()
    assert e.value.code == 2 and out == ""
    assert err.count("\n") == 1 and re.fullmatch(rf"wdlab: error: unrecognized arguments: .*; did you mean "
                                                  rf"{re.escape(meant)}\?\n", err), err


def test_a_flag_like_nothing_known_gets_no_guess(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--frobnicate"])
    assert "did you mean" not in capsys.readouterr().err
