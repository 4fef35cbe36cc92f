"""tf.data: datasets, iterators (TF 1.15 names and semantics).

    ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(1000).batch(32)
    it = ds.make_initializable_iterator()
    images, labels = it.get_next()

Datasets describe pipelines in Python (dataset.py, transforms.py); user
functions given to map and filter are traced into the graph and run as
compiled code (functions.py); iterators serve elements to the Session through
implicit feeds (iterator.py)."""
from __future__ import annotations

from . import structure  # noqa: F401 - element nests (flatten, pack_as)
from .dataset import Dataset
from .iterator import Iterator  # noqa: F401 - tf.data.Iterator

DatasetV1 = Dataset
AUTOTUNE = -1


def make_one_shot_iterator(dataset):
    """tf.compat.v1.data.make_one_shot_iterator(dataset)."""
    return dataset.make_one_shot_iterator()


def make_initializable_iterator(dataset, shared_name=None):
    """tf.compat.v1.data.make_initializable_iterator(dataset, shared_name=None)."""
    return dataset.make_initializable_iterator(shared_name)


def get_output_types(dataset_or_iterator):
    return dataset_or_iterator.output_types


def get_output_shapes(dataset_or_iterator):
    return dataset_or_iterator.output_shapes


def get_output_classes(dataset_or_iterator):
    return dataset_or_iterator.output_classes


def _unbatch():
    """tf.data.experimental.unbatch(): a transformation for Dataset.apply."""
    return lambda ds: ds.unbatch()


def _shuffle_and_repeat(buffer_size, count=None, seed=None):
    """tf.data.experimental.shuffle_and_repeat: shuffle (a new order each epoch)
    then repeat."""
    return lambda ds: ds.shuffle(buffer_size, seed=seed).repeat(count)


def _map_and_batch(map_func, batch_size, num_parallel_batches=None, drop_remainder=False,
                   num_parallel_calls=None):
    """tf.data.experimental.map_and_batch: map, then batch."""
    return lambda ds: ds.map(map_func).batch(batch_size, drop_remainder=drop_remainder)


def install(tf):
    """Attaches tf.data (and the iterator names) to the tfcompile module `tf`."""
    import sys

    from ..namespaces import _namespace
    me = sys.modules[__name__]
    me.experimental = _namespace(
        "data.experimental", "tf.data.experimental", AUTOTUNE=AUTOTUNE, unbatch=_unbatch,
        shuffle_and_repeat=_shuffle_and_repeat, map_and_batch=_map_and_batch)
    tf.data = me
