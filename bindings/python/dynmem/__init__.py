"""Python bindings of libdynmem: what Hyper-V Dynamic Memory gives Hyper-V,
for any VMM.

One module per public header, all re-exported here:

- codec (dynmem/proto.h): ``decode()``, ``decode_stream()``, ``encode()`` and
  the Message dataclasses;
- pages (dynmem/pages.h): ``PageSet``;
- memmap (dynmem/memmap.h): ``MemoryMap``;
- pressure (dynmem/pressure.h): ``PressureEstimator``, ``Sample``;
- balancer (dynmem/balancer.h): ``Balancer``, ``VMConfig``, ``Action``;
- session (dynmem/session.h): ``SessionHost``, ``SessionGuest``, ``SessionEvent``.

Every failure the library reports raises ``dynmem.Error``; invalid arguments
are refused in Python with TypeError or ValueError. ``__version__`` is the
version of these bindings, ``library_version`` the version of the libdynmem
actually loaded.
"""
from . import _ffi as _loader
from ._version import version as __version__
from .errors import *  # noqa: F401,F403
from .errors import __all__ as _errors_all
from .codec import *  # noqa: F401,F403
from .codec import __all__ as _codec_all
from .pages import *  # noqa: F401,F403
from .pages import __all__ as _pages_all
from .memmap import *  # noqa: F401,F403
from .memmap import __all__ as _memmap_all
from .pressure import *  # noqa: F401,F403
from .pressure import __all__ as _pressure_all
from .balancer import *  # noqa: F401,F403
from .balancer import __all__ as _balancer_all
from .session import *  # noqa: F401,F403
from .session import __all__ as _session_all

#: Version of the libdynmem actually loaded, "MAJOR.MINOR.MICRO" (dynmem_version_string()).
library_version = _loader.ffi.string(_loader.lib.dynmem_version_string()).decode()
#: The same as a tuple of ints (from dynmem_version()).
library_version_info = tuple((_loader.lib.dynmem_version() >> shift) & 0xff for shift in (16, 8, 0))
#: Version of the headers the bindings were compiled against (DYNMEM_VERSION_STRING).
header_version = _loader.ffi.string(_loader.lib.DYNMEM_VERSION_STRING).decode()

__all__ = (['__version__', 'library_version', 'library_version_info', 'header_version']
           + _errors_all + _codec_all + _pages_all + _memmap_all + _pressure_all
           + _balancer_all + _session_all)
