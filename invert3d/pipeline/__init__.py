"""The inversion end to end: jobs (photo -> result folder), cached stages, the result folder's layout and outputs,
scoring results against synthetic truth."""
