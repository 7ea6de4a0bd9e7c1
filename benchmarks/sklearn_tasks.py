"""Hyper-parameter tuning of scikit-learn models on bundled data sets, as in the NeurIPS 2020
black-box optimisation challenge (Bayesmark): the loss a model's five-fold cross-validation
gives, minimised over its hyper-parameters, mixed real (some on a log scale), integer and
categorical.

Each task is a model, a data set bundled with scikit-learn (no download) and a loss. The
spaces follow Bayesmark's (the trees' and the linear models' as they are; the support-vector
regressor's with an epsilon and wider ranges), with a categorical knob added where the model
has a natural one (the split criterion, the kernel, the solver), since the challenge's own
spaces have almost none. The folds are fixed (shuffled with seed 0) and
every model's own randomness is seeded, so a loss is a deterministic function of the
hyper-parameters: the task is noise-free, as the benchmark's score assumes.

Bayesmark's MLP and AdaBoost tasks are left out: one evaluation costs 0.5 to 1 s, 128 of
them a campaign, and the suite's 20 seeds × 4 optimisers would take hours on two cores. So is
k-nearest neighbours (n_neighbors 1-25, p 1-4, uniform or distance weights, on diabetes): its
200 points are nearly all evaluated in 128, so bayesopt, TPE and HEBO found its optimum in every
seed tried (20, 20 and 4), random search in most, and HEBO took 8 minutes a campaign there.
"""

from functools import cache
import warnings

import numpy as np

LOG = "log"


def _real(lower, upper, scale=None):
    return {"bounds": [lower, upper], "scale": scale} if scale else [lower, upper]


def _int(lower, upper, scale=None):
    spec = {"bounds": [lower, upper], "type": "int"}
    return {**spec, "scale": scale} if scale else spec


def _choice(*options):
    return {"choices": list(options)}


_TREE = {
    "max_depth": _int(1, 15),
    "min_samples_split": _real(0.01, 0.99),
    "min_samples_leaf": _real(0.01, 0.49),
    "min_weight_fraction_leaf": _real(0.01, 0.49),
    "max_features": _real(0.01, 0.99),
    "min_impurity_decrease": _real(0.0, 0.5),
    "criterion": _choice("gini", "entropy"),
}

#: name: (model, data set, loss, space)
TASKS = {
    "dt_wine_acc": ("DecisionTreeClassifier", "wine", "error", _TREE),
    "rf_breast_nll": ("RandomForestClassifier", "breast_cancer", "log_loss", _TREE),
    "svr_diabetes_mse": (
        "SVR",
        "diabetes",
        "mse",
        {
            "C": _real(1e-2, 1e2, LOG),
            "epsilon": _real(1e-3, 1.0, LOG),
            "gamma": _real(1e-4, 1.0, LOG),
            "kernel": _choice("rbf", "sigmoid"),
        },
    ),
    "logreg_breast_nll": (
        "LogisticRegression",
        "breast_cancer",
        "log_loss",
        {
            "C": _real(1e-2, 1e2, LOG),
            "intercept_scaling": _real(1e-2, 1e2, LOG),
            "solver": _choice("lbfgs", "liblinear"),
        },
    ),
    "dt_diabetes_mse": (
        "DecisionTreeRegressor",
        "diabetes",
        "mse",
        {**_TREE, "criterion": _choice("squared_error", "friedman_mse")},
    ),
    "lasso_diabetes_mae": (
        "Lasso",
        "diabetes",
        "mae",
        {
            "alpha": _real(1e-2, 1e2, LOG),
            "fit_intercept": _choice(True, False),
            "max_iter": _int(10, 5000, LOG),
            "tol": _real(1e-5, 1e-1, LOG),
            "positive": _choice(True, False),
        },
    ),
}

_SCORING = {
    "error": "accuracy",
    "log_loss": "neg_log_loss",
    "mse": "neg_mean_squared_error",
    "mae": "neg_mean_absolute_error",
}


@cache
def _data(name):
    """Standardised features and the target (regression targets standardised too, so that
    losses are comparable across folds)."""
    from sklearn import datasets
    from sklearn.preprocessing import StandardScaler

    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    if name == "diabetes":
        y = (y - y.mean()) / y.std()
    return X, y


def _model(name, params):
    from sklearn import ensemble, linear_model, neighbors, svm, tree

    for module in (tree, ensemble, svm, neighbors, linear_model):
        if hasattr(module, name):
            cls = getattr(module, name)
            break
    seeded = {"random_state": 0} if "random_state" in cls().get_params() else {}
    extra = {"n_estimators": 10} if name == "RandomForestClassifier" else {}
    return cls(**seeded, **extra, **params)


def loss(task, params):
    """The task's five-fold cross-validated loss at ``params`` (lower is better)."""
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score

    model_name, data, metric, _ = TASKS[task]
    X, y = _data(data)
    classify = metric in ("error", "log_loss")
    folds = (StratifiedKFold if classify else KFold)(5, shuffle=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings are part of the landscape
        scores = cross_val_score(_model(model_name, params), X, y, cv=folds, scoring=_SCORING[metric])
    value = float(np.mean(scores))
    return 1.0 - value if metric == "error" else -value


def objective(task):
    """``f(**params) -> loss`` for one task."""

    def f(**params):
        return loss(task, params)

    return f


PROBLEMS = {name: (objective(name), spec[3]) for name, spec in TASKS.items()}
