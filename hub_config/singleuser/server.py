"""The student's server: JupyterHub's single-user server, started lighter.

jsonschema imports ``rfc3987_syntax`` when it is installed, and that module compiles about 35
Earley grammars at import time: over half of a server's start-up CPU on a lab machine (measured
1.7 s of 3.2 s), and a class of 40 starting at once pays it 40 times. No Jupyter schema uses the
``iri`` formats it checks, so the server runs without it (jsonschema skips a missing checker).
See jupyter-server/jupyter_server#1559 and python-jsonschema/jsonschema#1428.

JupyterLab also runs ``node yarn.js config --json`` when its app module is imported (to find
the npm registry for building extensions), if Node.js is on the PATH: another Node process and
0.6 s per server start. Students never build extensions, so the server uses the default registry.

JupyterLab's Vietnamese language pack leaves most of JupyterLab in English: the server adds our
supplement to it (hub_config/singleuser/lab_translations).

A production formgrader (the same server, run as a service) has its Autograde button guarded:
see hub_config/teaching/formgrader_guard.py.
"""

import os
import sys
from pathlib import Path

from hub_config.teaching.formgrader_guard import GUARD_ENV, guard


def prepare_imports() -> None:
    """What must hold before the server's libraries are imported (the warm process does it too)."""
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]  # import now raises ImportError
    import jupyterlab.commands as lab_commands

    if hasattr(lab_commands, "_yarn_config"):  # private: if a release renames it, start as usual
        lab_commands._yarn_config = lambda logger: {"yarn config": {}, "npm config": {}}


def run() -> int:
    """Run the server of the user this process now is, from its environment and sys.argv."""
    from hub_config.singleuser import lab_translations
    from hub_config.singleuser.pod_config import prepare_pod

    prepare_pod(os.environ, Path.home())  # on Kubernetes only: the site's Jupyter config, first-start settings
    lab_translations.install()
    if os.environ.get(GUARD_ENV):
        guard(os.environ[GUARD_ENV])
    from jupyterhub.singleuser import main as singleuser_main

    return int(singleuser_main() or 0)


def main() -> None:
    prepare_imports()
    sys.exit(run())


if __name__ == "__main__":
    main()
