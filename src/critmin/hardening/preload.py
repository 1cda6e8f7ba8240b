"""Import, once and completely, the libraries that others probe through `sys.modules`.

Streamlit runs each session's script in its own thread. altair looks for pandas
with `sys.modules.get("pandas")`, so on a cold server a session drawing a chart
while another session's thread is still half-way through `import pandas` got
the partially initialised module and crashed ("partially initialized module
'pandas' has no attribute 'Timestamp'"), found by `critmin.loadrun` with 20
users. `app.py` imports this module (through `critmin.ui.access`) before any
page runs; Python's import lock makes every other session wait until these
imports have finished.
"""

import altair  # noqa: F401
import pandas  # noqa: F401
import pyarrow  # noqa: F401
import pydeck  # noqa: F401
