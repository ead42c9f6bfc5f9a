"""The browser app (``invert3d app``): the command line's library calls behind a Gradio page."""
