"""Measurement helpers shared by the benchmarks and the tests."""

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten


class LargestTensor(TorchDispatchMode):
    """Within ``with LargestTensor() as probe:``, records the largest tensor any torch op
    allocated: ``probe.largest_elements`` and ``probe.largest_bytes`` (views of an input are
    not counted). Shows whether a code path ever materialises, say, a hypotheses x
    vocabulary matrix."""

    def __init__(self):
        super().__init__()
        self.largest_elements = 0
        self.largest_bytes = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        # views (slices, transposes) share their input's storage: they allocate nothing
        inputs = {t.untyped_storage().data_ptr() for t in tree_flatten((args, kwargs))[0] if torch.is_tensor(t)}
        for tensor in tree_flatten(out)[0]:
            if torch.is_tensor(tensor) and tensor.untyped_storage().data_ptr() not in inputs:
                self.largest_elements = max(self.largest_elements, tensor.numel())
                self.largest_bytes = max(self.largest_bytes, tensor.numel() * tensor.element_size())
        return out
