"""Hypothesis strategies shared by the kit's tests: bounded finite floats, small shapes."""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

finite = st.floats(min_value=-3.0, max_value=3.0, allow_nan=False, allow_infinity=False)
positive = st.floats(min_value=0.2, max_value=3.0, allow_nan=False, allow_infinity=False)
small_dim = st.integers(min_value=1, max_value=4)


def arrays(shape, elements=finite):
    """float64 arrays of a given shape (or shape strategy) with bounded finite entries."""
    return hnp.arrays(np.float64, shape, elements=elements)


small_shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


@st.composite
def broadcastable_pair(draw):
    """Two shapes that broadcast together (one may have size-1 or missing axes)."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    other = tuple(draw(st.sampled_from([d, 1])) for d in shape)
    drop = draw(st.integers(min_value=0, max_value=len(other) - 1))
    return shape, other[drop:]


@st.composite
def seeds(draw):
    """A numpy Generator seeded from hypothesis, so failures replay."""
    return np.random.default_rng(draw(st.integers(min_value=0, max_value=2**32 - 1)))
