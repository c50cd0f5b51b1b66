"""Warm starts: students' servers and kernels forked from a process that has already imported them.

A server started with a fresh Python pays about two seconds of CPU to import the single-user
server and JupyterLab, and each kernel pays again for IPython, numpy and scikit-learn; a class of
40 logging in at once on two cores waited more than a minute. Here one warm process per hub
(`image.py`, started from a clean `exec` by the hub, as the hub's account: root in production)
imports all of that once, then forks:

- each student's server (`server_child.py`): the child becomes the student (cgroup, account and
  groups, umask, home, environment: `hub_config.server_identity`, the same record the plain spawn
  applies) before it touches anything of theirs, then runs the single-user server;
- within it, before the server starts, a kernel nursery (`kernels.py`): a single-threaded copy of
  the same image, already the student in the student's cgroup, that forks each kernel the
  server's kernel provisioner asks for. A kernel thus runs under exactly the limits of its server,
  and no process of one student ever asks a process of another for anything.

Every fork is asked for over a socket made for that one request (`forkserver.py`): the warm
process never reads a request (the child does, after the fork), so one student's token or
environment never sits in the memory the next student's server is forked from.

Where a warm start is not possible (the warm process cannot start or stops answering, a site's
own server command, another kernel than Python), the plain spawn is used and the log says why.
"""
