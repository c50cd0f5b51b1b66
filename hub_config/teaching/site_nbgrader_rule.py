"""The one rule of the site's nbgrader configuration that is not data: copied as it is to
<data>/etc/jupyter/nbgrader_config.py by teaching/nbgrader_config.py; the settings themselves are
data, in nbgrader_config.json beside it."""

import os

c = get_config()  # type: ignore[name-defined]  # noqa: F821  (injected by nbgrader)
if os.environ.get("JUPYTERHUB_USER") and not os.environ.get("JUPYTERHUB_SERVICE_NAME"):
    # A student's own server. nbgrader names a submission after the OS account, and in demo mode
    # every server shares one account: the hub's name for the student is the right one (and the
    # same as the OS account in production).
    c.CourseDirectory.student_id = os.environ["JUPYTERHUB_USER"]
