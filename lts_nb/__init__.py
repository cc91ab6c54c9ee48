__version__ = "0.1.0"

import os as _os
# Waiting OpenMP threads spin by default, and when other jobs share the CPU the spinning threads take it from the
# ones with work (lts_score ran 3.8x slower at load 6-11). A passive wait must be chosen before torch starts its
# OpenMP runtime, so it is set here, unless the user has chosen; bench/threads_bench.py measures what it does.
_os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
