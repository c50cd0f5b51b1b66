"""From a submission to a grade: grading pipeline, sandbox and special graders (on nbgrader)."""
