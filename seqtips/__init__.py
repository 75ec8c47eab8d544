"""seqtips — measured experiments behind the tips for training sequence models.

``import seqtips as st`` gives a notebook the core every notebook relies on: device and seeds
(``st.setup``), synthetic tasks and the surname data, one sequence model, the recording training
loop, early stopping, the verdict, figures and widgets. A notebook's own helpers live in its
companion, ``seqtips.lessons.nbNN_*``. Importing seqtips changes no process-wide state:
``st.setup()`` does, visibly.
"""

__version__ = "0.2.0"

from .data import ADDING_BASELINE_MSE, adding_batches, adding_problem, counting_task
from .early_stopping import EarlyStopping
from .models import CELLS, SequenceModel, count_parameters, expected_parameters, make_model
from .plots import (CELL_COLORS, heatmap, mark_epoch, plot_eval_curves, plot_grad_norms, plot_norm_histogram,
                    seed_band, use_style)
from .runtime import base_seed, get_device, seed_everything, seeds, setup
from .surnames import load_surnames
from .training import History, mse_evaluator, train
from .verdict import check, fmt, per_seed
from .widgets import browse
