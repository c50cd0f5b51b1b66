"""From a notebook cell to a MicroPython kit and back: kit records, transport, simulated kit."""

# Set in a kernel that is grading a notebook: `%%kit` keeps its program for the grader instead
# of running it (there is no kit there; the grader runs it on a simulated one).
GRADING_ENV = "STEMLAB_GRADING"
