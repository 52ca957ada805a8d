"""scikit-learn's estimator checks on both estimators, with tiny fast settings."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sslearn import LiquidS4Classifier, LiquidS4Regressor

# Small enough for CI, trained well enough for the checks' accuracy thresholds (blobs with
# 2 features read as length-2 series; a regression on one of 10 time steps).
TINY = {
    "d_model": 8,
    "n_layers": 1,
    "d_state": 8,
    "stem_channels": 4,  # the default front end, small
    "pooling": "last",
    "liquid_kernel": None,  # the contract does not depend on it; None learns the toy data fastest
    "max_epochs": 25,
    "batch_size": 32,
    "lr": 2e-2,
    "ssm_lr": 2e-2,
    "device": "cpu",
}


def expected_failed_checks(estimator):
    return {
        "check_sample_weight_equivalence_on_dense_data": (
            "minibatch training: a weight of 2 and a duplicated series change the batches "
            "and the number of optimisation steps, so the fitted networks differ"
        ),
    }


@parametrize_with_checks(
    [LiquidS4Classifier(**TINY), LiquidS4Regressor(**TINY)],
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
