"""The student's server: JupyterHub's single-user server, started lighter.

jsonschema imports ``rfc3987_syntax`` when it is installed, and that module compiles about 35
Earley grammars at import time: over half of a server's start-up CPU on a lab machine (measured
1.7 s of 3.2 s), and a class of 40 starting at once pays it 40 times. No Jupyter schema uses the
``iri`` formats it checks, so the server runs without it (jsonschema skips a missing checker).
See jupyter-server/jupyter_server#1559 and python-jsonschema/jsonschema#1428.
"""

import sys


def main() -> None:
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]  # import now raises ImportError
    from jupyterhub.singleuser import main as singleuser_main

    sys.exit(singleuser_main())


if __name__ == "__main__":
    main()
