"""The demo behind the README's first command, on the smallest bundled set."""

import numpy as np

from skweighting.__main__ import main, run


def test_demo_reports_weights_and_peers(capsys):
    lines = []
    results = run("wine", out=lines.append)
    text = "\n".join(lines)
    for name in ("logistic", "random_forest", "gradient_boosting", "naive_bayes"):
        assert name in text
    assert set(results) >= {
        "SparseAttentionClassifier",
        "VotingClassifier (soft)",
        "StackingClassifier",
    }
    for scores in results.values():
        assert np.isfinite(scores["log_loss"]) and scores["log_loss"] >= 0
        assert 0.8 <= scores["accuracy"] <= 1.0


def test_demo_command_line(capsys):
    main(["--dataset", "wine", "--random-state", "1"])
    out = capsys.readouterr().out
    assert "Learned attention" in out
    assert "StackingClassifier" in out
