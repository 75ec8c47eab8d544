"""seqtips — measured experiments behind the tips for training sequence models.

``import seqtips as st`` gives a notebook the core every notebook relies on: device and seeds
(``st.setup``), the adding problem, one sequence model, the recording training loop, the
per-step gradients, early stopping, the verdict, figures and widgets: what two or more notebooks
call. What one notebook alone calls lives in its companion, ``seqtips.lessons.nbNN_*``; its
exercises' checkers in ``seqtips.exercises.nbNN``. Importing seqtips changes no process-wide state:
``st.setup()`` does, visibly.
"""

__version__ = "0.2.0"

from .data import ADDING_BASELINE_MSE, adding_batches, adding_problem
from .early_stopping import EarlyStopping
from .models import SequenceModel, count_parameters, matched_size
from .plots import (CELL_COLORS, PALETTE, plot_eval_curves, plot_grad_norms, plot_norm_histogram,
                    seed_band)
from .runtime import seed_everything, seeds, setup, stream_seed
from .training import History, mse_evaluator, train
from .tuning import log_grid, tune
from .unrolled import hidden_state_gradients
from .verdict import check, fmt, per_seed
from .widgets import browse
