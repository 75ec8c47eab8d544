"""seqtips — measured experiments behind the tips for training sequence models.

``import seqtips as st`` gives a notebook its plumbing: device and seeds, synthetic data, a
model whose recurrent cell is chosen by name, a recording training loop, gradient-through-time
measurements, plots, widgets and the verdict helper. Importing it also configures the CPU for
tiny recurrent models (flush denormals, one torch thread unless ``SEQTIPS_THREADS`` says
otherwise).
"""

from .data import ADDING_BASELINE_MSE, adding_batches, adding_problem, counting_task
from .gradients import hidden_state_gradients, unrolled_cell
from .models import CELLS, SequenceModel, count_parameters, expected_parameters, make_model
from .plots import (
    CELL_COLORS,
    mark_epoch,
    plot_eval_curves,
    plot_grad_norms,
    plot_norm_histogram,
    plot_time_gradients,
    seed_band,
    use_style,
)
from .runtime import base_seed, configure_cpu, describe_runtime, get_device, seed_everything, seeds
from .training import History, mse_evaluator, train
from .verdict import check, fmt, per_seed
from .widgets import browse

# Helpers of individual notebooks (one import line each).
from .early_stopping import EarlyStopping, Replay, replay, stop_epoch_best_rule, stop_epoch_previous_rule
from .clipping import THRESHOLD_METHODS, suggest_threshold
from .speed import backward_nodes, peak_memory_bytes, saved_tensor_bytes, state_bytes, time_calls
from .sweeps import Sweep, grid, heatmap, run_sweep
from .surnames import (SurnameGenerator, char_nll, copy_fraction, evaluate_nll, length_batches, load_surnames,
                       sample_names)

__version__ = "0.1.0"

configure_cpu()
use_style()
