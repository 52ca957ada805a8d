"""numpydoc sections shared by the docstrings of the two estimators."""

DOC_PARAMETERS = """
    Parameters
    ----------
    d_model : int, default=64
        Width H of the network (features per time step inside the blocks).
    n_layers : int, default=2 (classifier) or 4 (regressor)
        Number of residual Liquid-S4 blocks. The classifier's two blocks matched four on
        the developer set's mean accuracy (0.881 against 0.878, 3 seeds, H200) at 0.6 times
        the fit time (``benchmarks/RESULTS.md`` §3).
    d_state : int, default=64
        State size N of each SSM (even: N/2 complex modes per feature).
    ssm : {"diag", "dplr", "lssl"}, default="diag"
        State matrix family: S4D (diagonal), S4 (diagonal plus low rank) or LSSL (dense).
    liquid_kernel : {"kb", "pb", "exact"} or None, default="kb"
        Liquid (input-dependent) term: ``"pb"`` polynomial, ``"kb"`` kernel form,
        ``"exact"`` the recurrence itself (slowest), None for plain S4. The default is
        chosen by measurement (``benchmarks/RESULTS.md`` §3): over the 13 datasets of the
        developer set (3 seeds, H200), ``"kb"`` had the best mean accuracy and RMSE of the
        four, at about the fit time of None.
    liquid_degree : int, default=2
        Highest degree of the input products in the ``"pb"``/``"kb"`` terms.
    init : str, default="legs"
        Initialisation of A (``"legs"``, ``"lin"``, ``"inv"``, ``"real"`` for
        ``ssm="diag"``; see :class:`~sslearn.nn.LiquidSSM`).
    bidirectional : bool, default=True
        Also run each SSM backwards from each series' end (the default for whole-series
        classification and regression; set False for a causal model that can stream).
    conv_width : int, default=0
        Width of a short causal convolution per feature, followed by SiLU, before each
        block's SSM (as in H3 and Mamba; see :class:`~sslearn.nn.LiquidS4Block`): local
        shapes over a few steps, which the SSMs' smooth kernels represent poorly. 0 leaves
        it out.
    stem_channels : int, default=64
        Channels of a convolutional front end before the blocks (the FCN's three
        convolutions of widths 8, 5 and 3, each with a batch norm and a ReLU; see
        :class:`~sslearn.nn.ConvStem`): the encoder reads its output beside the raw
        input, so sharp local shapes (outlines, onsets) need not come from the SSMs. Causal
        when ``bidirectional=False``, so the model still streams. 0 leaves it out (smaller
        and faster on a CPU; on the smallest training sets it can score higher).
    stem_head : bool, default=True (classifier) or False (regressor)
        A second head per member on the front end's output averaged over each series'
        valid steps (the FCN's global average pooling), trained by a loss of its own beside
        the network's head; predictions average the two heads like an ensemble's members
        (so ``predict_proba`` is their mean probability, and with ``n_estimators`` > 1 the
        members' outputs include both heads of each). In the joint network the SSM blocks
        fit the training set first and leave the front end's features little to learn
        from; their own loss keeps them learning. On the developer set (3 seeds, H100) it
        raised the classifier's mean accuracy from 0.885 to 0.895 (OSULeaf 0.861 to 0.926)
        at about the same fit time, but raised the regressor's error on Tecator and the
        simulated rates, hence the regressor's default (``benchmarks/RESULTS.md`` §3).
        Has no effect with ``stem_channels=0``.
    dropout : float, default=0.0
        Dropout inside the blocks, in [0, 1).
    norm : {"layer", "batch"}, default="layer"
        Normalisation inside the blocks.
    pooling : str, default="mean+max" (classifier) or "mean" (regressor)
        How per-step features become one vector per series: ``"mean"`` or ``"max"`` over
        the valid steps, both side by side (``"mean+max"``), or the ``"last"`` valid step.
        Each default won on its task's developer-set mean (``benchmarks/RESULTS.md`` §3):
        maxima pick out events for classes; averages keep rates and levels for regression
        targets.
    n_estimators : int, default=1
        Members of a deep ensemble (Lakshminarayanan et al., 2017), trained together as one
        network whose layers hold every member's channels side by side (no weight is
        shared; on a GPU K members cost far less than K fits). Members differ in their
        initial weights, dropout and augmentation draws and see the same batches.
        Predictions average the members' probabilities (classifier) or outputs (regressor).
    augment : str, dict or None, default="light" (classifier) or None (regressor)
        Training-time augmentation of each batch, drawn anew for every member and step:
        jitter, magnitude scaling, window crops, time warping and mixup (see
        :class:`~sslearn.training.Augmentation`; ``"light"``, ``"auto"``, ``"strong"``, or
        a dict of strengths). None trains on the series as they are. The classifier's
        default (jitter 0.01, scaling 0.05, crops of 95 %, warps 0.05) with its whole
        100-epoch schedule raised the mean accuracy over the developer set from 0.860 to
        0.878 (``benchmarks/RESULTS.md`` §3); for the regressor it did not pay (magnitude
        scaling also blurs targets that depend on a signal's level).
    dt_range : "auto", (float, float) (a tuple or list) or None, default=None
        Range of the SSMs' log-uniform initial step sizes. None: ``(1e-3, 1e-1)``;
        ``"auto"``: from the longest training series of ``L`` steps,
        ``(1 / L, max(0.1, 10 / L))``, so that the time scales ``1 / dt`` reach from a few
        steps to the whole series.
    ema_decay : float or None, default=None
        Keep an exponential moving average over epochs of the weights with this decay
        (0.9: roughly the last 10 epochs) and end training with it (Polyak averaging). Not
        used with early stopping, which keeps the best epoch's weights. None keeps the
        last epoch's weights.
    max_epochs : int, default=100 (classifier) or 200 (regressor)
        Maximum number of passes over the training data; the cosine schedule decays the
        learning rate to 0 at the last one.
    batch_size : int, default=32
        Series per optimisation step (batches are balanced, so some hold one less).
    lr : float, default=1e-2
        AdamW learning rate of the non-SSM parameters.
    ssm_lr : float or None, default=1e-3
        Learning rate of the SSM parameters (step sizes, A, B), which get no weight decay.
        None uses ``lr``.
    weight_decay : float, default=0.01
        AdamW weight decay of the weight matrices.
    scheduler : {"cosine", "constant", "plateau"}, default="cosine"
        Learning-rate schedule after a linear warm-up over the first 5% of the steps:
        cosine decay to 0 at ``max_epochs``, constant, or halved when the monitored loss
        has not improved for ``n_iter_no_change // 2`` epochs.
    clip_grad_norm : float or None, default=1.0
        Clip the gradients' global norm to this value; None disables clipping.
    early_stopping : bool or "auto", default="auto"
        Hold out ``validation_fraction`` of the training series, stop when the validation
        loss has not improved by ``tol`` for ``n_iter_no_change`` epochs, and keep the
        weights of the best epoch. ``"auto"`` enables it from 500 training series on.
        Without it, training stops when the training loss stalls the same way.
    validation_fraction : float, default=0.1
        Share of the training series held out for early stopping (stratified by class for
        the classifier). After training, the same series calibrate the uncertainty methods
        (``predict_interval``, ``predict_set``, ``calibration="temperature"``); as they also
        chose the stopping epoch, that calibration is slightly optimistic.
    n_iter_no_change : int, default=100 (classifier) or 30 (regressor)
        Epochs without improvement before stopping. The classifier's default equals its
        ``max_epochs``, so that it runs its whole schedule (with early stopping it still
        keeps the best epoch's weights): stopped on a stalled training loss, classifiers
        ended after about 50 of 200 epochs with the learning rate near its peak.
    tol : float, default=1e-4
        Minimal decrease of the monitored loss that counts as an improvement.
    scale : bool, "series" or "both", default=True (classifier) or "both" (regressor)
        True: standardise each channel with its mean and standard deviation over the
        training set, learned in ``fit``. ``"series"``: standardise each series and channel
        by its own mean and standard deviation (the z-normalisation of the UCR archive), so
        predictions ignore a series' level and amplitude. ``"both"``: the network reads each
        channel twice, scaled both ways, so it sees a series' shape apart from its level and
        amplitude and still knows them. False: the values as given. The per-series
        statistics need the whole series, so a model fitted with ``"series"`` or ``"both"``
        cannot :meth:`stream` or be exported to ONNX in ``mode="step"``. The defaults are
        measured (``benchmarks/RESULTS.md`` §3): ``"both"`` lowered the regressor's RMSE on
        all three regression sets of the developer set (Tecator by 44 %) and did not raise
        the classifier's mean accuracy.
    missing_at_predict : {"warn", "error", "ignore"}, default="warn"
        What to do when ``X`` at predict time has missing values (NaN inside a series, not
        the trailing NaN that pad shorter series) but the training data had none: the
        network then has no missingness channels and reads them as zeros (the channel's
        training mean with ``scale=True``). ``"warn"`` issues a ``UserWarning``,
        ``"error"`` raises ``ValueError``, ``"ignore"`` predicts silently. Models fitted on
        data with missing values accept them in any case.
    time_unit : float or None, default=None
        For irregularly sampled series (``fit(X, y, times=...)``): the duration of one
        model step, in the units of ``times`` (seconds for datetimes), e.g. ``1 / fs`` for
        data sampled at up to ``fs`` Hz. The network reads the gap before each step as
        ``(t[k] - t[k - 1]) / time_unit`` steps, so its learned time scales ``1 / dt`` are
        ``time_unit / dt`` in the units of ``times``. None takes the median gap between
        consecutive stamps of the training series. Unused without ``times``.
    device : str or torch.device, default="auto"
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"`` or
        ``"cuda:<index>"``. CUDA is only queried inside ``fit`` and ``predict``; a CUDA
        device on a machine without CUDA falls back to the CPU with a warning. With several
        GPUs, ``"auto"`` trains on the GPU with the fewest sslearn fits running on this host
        (threads and processes alike), so ``GridSearchCV(n_jobs=k)`` spreads over ``k`` GPUs,
        and a model fitted with ``"auto"`` predicts where it trained (``device_``): on the
        CPU if fitted there, on its GPU where that GPU exists, else on the CPU.
    devices : int or None, default=None
        Number of processes that train one model together (data parallel, with
        ``torch.distributed``): ``k >= 2`` spawns ``k`` ranks on ``cuda:0`` to ``cuda:k-1``
        (NCCL) or, with ``device="cpu"`` or without CUDA, on the CPU (gloo). Each rank takes
        ``1/k`` of every batch, so the updates are those of one device up to rounding. Needs
        batches of at least ``k`` series, and a script run with spawned processes must guard
        its entry point with ``if __name__ == "__main__":``. None or 1 trains in this process.
    precision : {"32", "bf16-mixed", "16-mixed"}, default="32"
        Numeric precision of the matrix products in training and GPU inference; the SSM
        kernels always run in float32. On the CPU, predictions are computed in float64, so
        that a series' prediction does not depend on the other series it is batched with
        (float32 matrix products differ in the last bit with the batch size).
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout, batch order and the validation split, through
        local generators only (global RNG state is left untouched). With an int, two fits on
        the CPU give identical models.
    verbose : int, default=0
        1 shows a progress bar with loss and ETA; 2 also prints one line per epoch.
    warm_start : bool, default=False
        Continue training the fitted network (and optimiser state) on the next ``fit``.
    callbacks : list of Callback or None, default=None
        Objects whose hooks the training loop calls at the start, after each validation
        pass, when an epoch becomes the best, after each epoch and at the end (see
        :class:`~sslearn.Callback`), e.g. to log, checkpoint the best weights or stop
        early on a rule of one's own (``state.stop_training()``). They run after the
        built-in early stopping and progress bar, in every ``fit`` and ``partial_fit``, and
        must pickle to pickle the estimator or to train with ``devices > 1``. Not stored
        by :func:`~sslearn.save`: a loaded model has ``callbacks=None``.
"""

DOC_ATTRIBUTES = """
    n_features_in_ : int
        Number of channels seen in fit (number of columns for 2-D input, whose columns are
        time points).
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names of a wide DataFrame, or channel names of a panel DataFrame (only when
        they are strings).
    n_channels_ : int
        Number of input channels of the series.
    n_timepoints_ : int
        Length of the longest training series (sets ``dt_range="auto"``).
    missing_in_fit_ : bool
        Whether the training data had missing values (NaN inside a series); if so, the
        network also sees a missingness indicator per channel.
    n_iter_ : int
        Number of epochs run (summed over warm starts and partial_fit calls).
    device_ : torch.device
        The device the last fit trained on (``device="auto"`` resolved); with
        ``device="auto"``, predictions run there too where it is available.
    history_ : list of dict
        One record per epoch: ``epoch``, ``train_loss``, ``lr``, ``seconds`` and, with early
        stopping, ``valid_loss`` and ``valid_score``.
    loss_curve_ : list of float
        Training loss per epoch.
    validation_scores_ : list of float or None
        Validation score per epoch of the last fit with early stopping.
    best_validation_score_ : float or None
        Validation score of the epoch whose weights were kept.
    stop_reason_ : str
        Why the last fit stopped: ``"max_epochs"``, ``"no_improvement"``, ``"callback"``
        (a callback's ``state.stop_training()``), ``"interrupted"`` (KeyboardInterrupt),
        ``"diverged"`` (NaN or infinite loss; ``fit`` then raises
        :class:`~sslearn.training.NonFiniteLossError` and the network keeps the weights of
        the last finite epoch) or ``"out_of_memory"`` (``fit`` then raises
        :class:`~sslearn.training.TrainingOutOfMemoryError` and the network keeps the best
        weights so far).
    network_ : torch.nn.Module
        The trained :class:`~sslearn.nn.LiquidS4Network`.
    scaler_ : ChannelScaler or None
        The per-channel scaler (``scale=True``).
    uses_times_ : bool
        Whether the model was fitted with ``times``; its prediction methods then need them.
    time_unit_ : float or None
        The duration of one model step in the units of ``times`` (``time_unit``, or the
        median gap of the training series); None without ``times``.
"""
