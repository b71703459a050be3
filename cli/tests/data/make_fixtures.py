#!/usr/bin/env python3
"""Writes the .npy fixtures of tests/cli.rs with numpy itself (np.save / np.lib.format).

Run from anywhere: python3 tests/data/make_fixtures.py  (numpy >= 1.17). The values are a
deterministic function of the index, so rerunning reproduces the same bytes.
"""
import os

import numpy as np
from numpy.lib import format as npformat

HERE = os.path.dirname(os.path.abspath(__file__))


def values(n, lo=-8.0, hi=8.0):
    """n float32 values spread over [lo, hi] in a scrambled order, plus special values."""
    i = np.arange(n, dtype=np.float64)
    v = lo + (hi - lo) * ((i * 0.6180339887498949) % 1.0)
    v = v.astype("<f4")
    specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-40, -3.0, 3.0, 6.0],
                        dtype="<f4")
    k = min(n, len(specials))
    v[:k] = specials[:k]
    return v


def save(name, array, version=None):
    path = os.path.join(HERE, name)
    if version is None:
        np.save(path, array)
    else:
        with open(path, "wb") as f:
            npformat.write_array(f, array, version=version)


# Accepted float32: C order, Fortran order, 0-d, empty, 1-d, header version 2.0.
save("c_2x3x4.npy", values(24).reshape(2, 3, 4))
save("dy_2x3x4.npy", values(24, -1.0, 1.0)[::-1].copy().reshape(2, 3, 4))
save("fortran_3x5.npy", np.asfortranarray(values(15).reshape(3, 5)))
save("dy_fortran_3x5.npy", np.asfortranarray(values(15, -2.0, 2.0).reshape(3, 5)))
save("scalar.npy", np.array(-1.25, dtype="<f4"))  # shape (), one element
save("empty_0x3.npy", np.zeros((0, 3), dtype="<f4"))
save("vec_1000.npy", values(1000))
save("v2_4x4.npy", values(16).reshape(4, 4), version=(2, 0))

# Accepted float16 ('<f2'): the output keeps the dtype, shape and order.
save("f16_2x3x4.npy", values(24).astype("<f2").reshape(2, 3, 4))
save("dy_f16_2x3x4.npy", values(24, -1.0, 1.0)[::-1].astype("<f2").reshape(2, 3, 4))
save("f16_fortran_3x5.npy", np.asfortranarray(values(15).astype("<f2").reshape(3, 5)))
save("dy_f16_fortran_3x5.npy", np.asfortranarray(values(15, -2.0, 2.0).astype("<f2").reshape(3, 5)))

# Rejected dtypes: each error message must name the dtype.
save("f64.npy", values(6).astype("<f8"))
save("big_endian_f4.npy", values(6).astype(">f4"))
save("u8.npy", np.arange(6, dtype="|u1"))
save("i32.npy", np.arange(6, dtype="<i4"))
save("big_endian_f2.npy", values(6).astype(">f2"))
