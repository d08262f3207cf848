# Writes the small reference .npy files check_runtime_npy.c reads, with
# numpy's own writer. Run: /usr/bin/python3 make_npy.py (from this folder).
import numpy as np
from numpy.lib import format as fmt


def save(name, a, version=None):
    with open(name, "wb") as f:
        fmt.write_array(f, a, version=version)


save("np_f32.npy", np.array([[1.5, -2.0, 3.0], [4.0, 5.0, 6.25]], dtype=np.float32))
save("np_f64_v1.npy", np.arange(5, dtype=np.float64) * 0.1, version=(1, 0))
save("np_i64_v1.npy", np.array([[1, -2], [3, 2147483647]], dtype=np.int64), version=(1, 0))
save("np_i32_v2.npy", np.array([7, -8, 9], dtype=np.int32), version=(2, 0))
save("np_u8_v3.npy", np.array([[0, 255]], dtype=np.uint8), version=(3, 0))
save("np_i64_big.npy", np.array([1, 2**40], dtype=np.int64))
save("np_scalar.npy", np.array(2.5))
save("np_fortran.npy", np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
save("np_big_endian.npy", np.array([1, 2], dtype=">f4"))
