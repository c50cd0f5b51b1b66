"""The teaching loop: nbgrader steps run for an offering (loop.py), where each student is with an
assignment (progress.py), and the teacher's page that runs them from the browser (page.py, with
jobs.py for the long steps and words.py for its Vietnamese and English)."""
