"""An ensemble of multi-layer perceptrons (scikit-learn MLPRegressor).

Inputs and outputs are standardised (each output on its own); several outputs
are learned by one joint network, whose shared hidden layers are what lets a
network emulate a simulation's correlated results cheaply; each network trains with Adam on small
minibatches and early stopping on a held-out tenth of the data. ``n_networks`` networks with
different seeds give the prediction (their mean) and an uncertainty (their
spread): a deep-ensemble estimate that reflects disagreement between networks,
not the noise in the data.
"""

import functools

import numpy as np

from fitflow.plugin import BAND, BAND_NOTE, FitResult, Method, Setting

__all__ = ["MLPEnsemble", "validation_r2"]


class MLPEnsemble(Method):
    name = "mlp"
    version = "1.1"
    description = "Ensemble of scikit-learn MLPRegressors (standardised, early stopping); mean and spread"
    capabilities = frozenset({"regression"})
    requires_modules = ("sklearn.neural_network", "sklearn.preprocessing")
    resources = {"threads": 1, "mem_mb": 1000, "runtime": 20}
    settings = {
        "hidden_layers": Setting([64, 64], list, "units per hidden layer", item_type=int, minimum=1, maximum=10_000),
        "n_networks": Setting(5, int, "networks in the ensemble", minimum=1, maximum=100),
        "activation": Setting("relu", str, "hidden activation", choices=("tanh", "relu", "logistic")),
        "learning_rate": Setting(0.01, float, "Adam's initial learning rate", minimum=1e-9),
        "l2": Setting(1e-4, float, "L2 penalty (alpha)", minimum=0.0),
        "batch_size": Setting(
            32, int, "minibatch size (small batches: many Adam steps per epoch)", minimum=1, maximum=1_000_000
        ),
        "max_iter": Setting(3000, int, "maximum epochs", minimum=1),
        "patience": Setting(
            100, int, "epochs without validation improvement before stopping", minimum=1, maximum=1_000_000
        ),
    }
    fast_settings = {"n_networks": 2, "max_iter": 200, "hidden_layers": [16]}

    def fit(self, dataset, rng):
        import warnings as python_warnings

        from sklearn.exceptions import ConvergenceWarning
        from sklearn.preprocessing import StandardScaler

        v = self.values
        x = dataset.x.reshape(dataset.n_points, -1)
        grid = dataset.grid_x.reshape(len(dataset.grid_x), -1)
        x_scaler = StandardScaler().fit(x)
        y_mean = np.mean(dataset.y, axis=0)
        y_std = np.std(dataset.y, axis=0)
        y_std = np.where(y_std > 0, y_std, 1.0)
        target = (dataset.y - y_mean) / y_std
        predictions, fitted, losses, validation, warnings = [], [], [], [], []
        for seed in rng.integers(2**31, size=v["n_networks"]):
            network = _regressor_class()(
                hidden_layer_sizes=tuple(v["hidden_layers"]),
                activation=v["activation"],
                solver="adam",
                learning_rate_init=v["learning_rate"],
                batch_size=min(v["batch_size"], dataset.n_points),
                alpha=v["l2"],
                max_iter=v["max_iter"],
                early_stopping=True,
                validation_fraction=0.1,
                n_iter_no_change=v["patience"],
                tol=1e-7,
                random_state=int(seed),
            )
            with python_warnings.catch_warnings(record=True) as caught:
                python_warnings.simplefilter("always", ConvergenceWarning)
                network.fit(x_scaler.transform(x), target)
            if any(issubclass(w.category, ConvergenceWarning) for w in caught):
                warnings.append(f"network (seed {seed}) reached max_iter={v['max_iter']} before early stopping")
            predictions.append(network.predict(x_scaler.transform(grid)))
            fitted.append(network.predict(x_scaler.transform(x)))
            losses.append(network.loss_curve_)
            # sklearn records validation R^2; on standardised targets 0.5 (1 - R^2) is
            # the validation analogue of the training loss (half the mean squared error).
            validation.append(0.5 * (1.0 - np.asarray(network.validation_scores_)))
        predictions = np.array(predictions) * y_std + y_mean
        return FitResult(
            grid_mean=predictions.mean(axis=0),
            grid_std=predictions.std(axis=0, ddof=1) if len(predictions) > 1 else np.zeros(predictions.shape[1:]),
            y_fit=np.mean(fitted, axis=0) * y_std + y_mean,
            n_evaluations=int(sum(len(c) for c in losses)),
            diagnostics={
                "epochs": [len(c) for c in losses],
                "final_loss": [float(c[-1]) for c in losses],
                BAND: "mean",
                BAND_NOTE: "spread of the ensemble's networks",
            },
            arrays={"loss_curves": _pad(losses), "validation_curves": _pad(validation)},
            warnings=warnings,
        )

    def figures(self, dataset, result):
        import matplotlib.pyplot as plt
        from matplotlib.ticker import NullFormatter

        fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100)
        fig.subplots_adjust(left=0.15, right=0.97, bottom=0.14, top=0.9)
        for i, (train, valid) in enumerate(zip(result.arrays["loss_curves"], result.arrays["validation_curves"])):
            ax.semilogy(train, color="#0072B2", lw=1, label="training" if i == 0 else None)
            ax.semilogy(valid, color="#E69F00", lw=1, label="validation" if i == 0 else None)
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss (half MSE, standardised y)")
        ax.legend(fontsize=8)
        ax.set_title("MLP ensemble: loss per network", fontsize=10)
        return {"loss": fig}


@functools.cache
def _regressor_class():
    """scikit-learn's MLPRegressor, scoring its per-epoch validation R² without input checks.

    With early stopping, scikit-learn scores the held-out tenth after every epoch through
    ``r2_score``, whose input validation (dtype, shape and dataframe checks) took a third
    of this method's time on 20-200 points, more than the epoch's training. The scores
    are :func:`validation_r2` of the same predictions: scikit-learn's formula (including
    its rules for constant targets), a few vector operations."""
    from sklearn.neural_network import MLPRegressor

    class FastScoringMLPRegressor(MLPRegressor):
        def _score(self, X, y, sample_weight=None):
            if sample_weight is not None:
                return super()._score(X, y, sample_weight=sample_weight)
            return validation_r2(y, self._predict(X, check_input=False))

    return FastScoringMLPRegressor


def validation_r2(y, prediction):
    """R² of ``prediction`` against ``y``, averaged over outputs, as scikit-learn's
    ``r2_score`` gives it (an output with constant ``y`` scores 1 if predicted exactly, else
    0); NaN where the prediction is not finite or fewer than two points are scored."""
    y = np.asarray(y, dtype=float)
    prediction = np.asarray(prediction, dtype=float).reshape(y.shape)
    if len(y) < 2 or not np.isfinite(prediction).all():
        return np.nan
    residual = np.sum((y - prediction) ** 2, axis=0)
    total = np.sum((y - np.mean(y, axis=0)) ** 2, axis=0)
    scores = np.where(total != 0, 1 - residual / np.where(total != 0, total, 1), np.where(residual == 0, 1.0, 0.0))
    return float(np.mean(scores))


def _pad(curves):
    """Stack curves of different lengths into one array, NaN-padded."""
    out = np.full((len(curves), max(len(c) for c in curves)), np.nan)
    for i, curve in enumerate(curves):
        out[i, : len(curve)] = curve
    return out
