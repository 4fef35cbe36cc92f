"""tf.train: optimizers, the global step, learning-rate schedules (and, from
their own modules, checkpoints and meta graphs)."""
from __future__ import annotations

from .learning_rate import (cosine_decay, exponential_decay, inverse_time_decay,
                            natural_exp_decay, piecewise_constant, polynomial_decay)
from .moving_averages import ExponentialMovingAverage, assign_moving_average
from .optimizer import Optimizer
from .optimizers import (AdadeltaOptimizer, AdagradOptimizer, AdamOptimizer,
                         GradientDescentOptimizer, MomentumOptimizer, RMSPropOptimizer)
from .training_util import (assert_global_step, create_global_step, get_global_step,
                            get_or_create_global_step, global_step)

from .saver import (NewCheckpointReader, Saver, SaverDef, checkpoint_exists,
                    export_meta_graph, get_checkpoint_mtimes, get_checkpoint_state,
                    import_meta_graph, latest_checkpoint, list_variables,
                    load_checkpoint, load_variable, remove_checkpoint,
                    update_checkpoint_state, write_graph)
