"""A strict stand-in for the CuPy subset the product uses, backed by NumPy, so the GPU
stages and the GPU runtime run in CI on the CPU.

It is a stand-in, not a GPU: it proves argument types, host/device discipline and
stream/event order, never speed or the real CUDA runtime. Strict where CuPy is strict,
and stricter where a mistake would only show on a device:

- a device array never converts to NumPy implicitly (``np.asarray(device)``, a NumPy
  array indexed with a device array, device and host arrays mixed in one operation):
  TypeError, as CuPy raises;
- kernels (``RawKernel``) take device arrays that are C-contiguous and scalars typed
  exactly as the kernel declares them (``np.int32`` for int, ``np.float32`` for float):
  a Python int would be passed as a 64-bit value and read as garbage on a GPU;
  launches run the kernel's own source built as host C++ (``kernel_host``);
- every array remembers the stream that last wrote it; reading it on another stream
  without having waited on an event recorded after that write raises StreamOrderError
  (streams are non-blocking, as the product creates them, so the legacy default stream
  does not order them either).
"""

from helpers.fake_cupy.arrays import ndarray
from helpers.fake_cupy.module import install
from helpers.fake_cupy.streams import StreamOrderError, _state, _write

__all__ = ["StreamOrderError", "install", "ndarray", "_state", "_write"]
