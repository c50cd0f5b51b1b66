"""Code that runs inside kernels, as files: the student's side of the judge's questions, the
judge's side, and the plain-data codec both use."""
