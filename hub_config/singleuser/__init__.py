"""What runs in the hub's users' own servers, beside JupyterLab (the student's assignments page).

(The hub's configuration, authenticator and spawner still live in hub_config/ itself; the
house-redesign issue moves them here.)
"""
