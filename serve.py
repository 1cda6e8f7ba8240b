"""critmin's server: `streamlit run serve.py` serves the app (app.py and pages/) and, once
the server is up, warms it before the first visitor arrives (critmin.ui.warmup: the
imports, the warehouse, the catalog, the default page's view)."""

import streamlit as st

from critmin.ui import warmup

app = st.App("app.py", lifespan=warmup.lifespan)
